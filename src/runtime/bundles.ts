/**
 * Runs pinned to their workflow code. Every version of a workflow bundle a process starts or
 * drives runs with is stored in the World under the hash of its code (`bundles.put`, once per
 * process and World); a run records the hash it started with (`run_created`, or the first
 * `run_started` when it was started by a process without the workflow code, a client), and the
 * one it was moved to (`run_upgraded`, `npx stepwise upgrade`: `ops/upgrade.ts`). A worker
 * replays each run with the bundle it is pinned to — its own, or an earlier version loaded from
 * the World and checked against its hash — so a deploy that changes a workflow never breaks the
 * runs already in flight. New runs use the newest code. Steps resolve by id in the worker's code.
 */
import { registerErrorCode, StepwiseError } from "../errors/base.ts";
import type { EventRecord } from "../world/events.ts";
import type { World } from "../world/types.ts";
import {
  bundleHash,
  getBundleVersion,
  getWorkflowBundle,
  loadBundleVersion,
  type WorkflowBundle,
} from "./registry.ts";

/** A stored bundle whose code does not hash to the hash it is stored under (damaged, or forged). */
export class BundleIntegrityError extends StepwiseError {
  static override readonly code: string = "BUNDLE_INTEGRITY";
  readonly hash: string;
  constructor(hash: string, actual: string) {
    super(
      `The workflow bundle stored under hash ${hash} does not match it (its code hashes to ${actual}): it was damaged or altered, and the runs pinned to it are not replayed with it. Restore the World from a backup, or store the bundle again by starting the worker of that code version.`,
    );
    this.hash = hash;
  }
}
registerErrorCode(BundleIntegrityError.code, StepwiseError.code);

const stored = new WeakMap<World, Set<string>>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Stores `bundle` in `world` unless this process stored it there already. */
export async function storeBundle(world: World, bundle: WorkflowBundle): Promise<void> {
  let hashes = stored.get(world);
  if (hashes === undefined) {
    hashes = new Set();
    stored.set(world, hashes);
  }
  if (hashes.has(bundle.hash)) return;
  await world.bundles.put({
    hash: bundle.hash,
    filename: bundle.filename,
    workflowIds: [...bundle.workflowIds],
    code: encoder.encode(bundle.code),
  });
  hashes.add(bundle.hash);
}

/**
 * The bundle hash a run is pinned to, from its log: the latest `run_created`, `run_started` or
 * `run_upgraded` that names one (undefined: a run older than pinning).
 */
export function pinnedHash(events: readonly EventRecord[]): string | undefined {
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index] as EventRecord;
    if (event.type === "run_upgraded") return event.data.toHash;
    if (event.type === "run_created" || event.type === "run_started") {
      if (event.data.bundleHash !== undefined) return event.data.bundleHash;
    }
  }
  return undefined;
}

/**
 * The bundle to replay `workflowName`'s run with: the version its log is pinned to (this process's
 * own if it is the same; else loaded from the World once and checked), or, for a run not pinned
 * yet, the registered one. `NotFoundError` if the pinned version is not stored;
 * `BundleIntegrityError` if it does not match its hash.
 */
export async function bundleForRun(
  world: World,
  workflowName: string,
  events: readonly EventRecord[],
): Promise<WorkflowBundle | undefined> {
  const current = getWorkflowBundle(workflowName);
  const hash = pinnedHash(events);
  if (hash === undefined || hash === current?.hash) return current;
  const known = getBundleVersion(hash);
  if (known !== undefined) return known;
  const record = await world.bundles.get(hash);
  const code = decoder.decode(record.code);
  const actual = bundleHash(code);
  if (actual !== hash) throw new BundleIntegrityError(hash, actual);
  return loadBundleVersion(
    { code, filename: `${record.filename} (version ${hash.slice(0, 12)})`, workflowIds: record.workflowIds },
    hash,
  );
}
