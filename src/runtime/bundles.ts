/**
 * Runs pinned to their workflow code. Every version of a workflow bundle a process starts or
 * drives runs with is stored in the World under the hash of its code (`bundles.put`, once per
 * process and World); a run records the hash it started with (`run_created`, or the first
 * `run_started` when it was started by a process without the workflow code, a client), and the
 * one it was moved to (`run_upgraded`, `npx stepwise upgrade`: `ops/upgrade.ts`). A worker
 * replays each run with the bundle it is pinned to — its own, or an earlier version loaded from
 * the World and checked against its hash — so a deploy that changes a workflow never breaks the
 * runs already in flight. New runs use the newest code. Steps resolve by id in the worker's code.
 *
 * Stored code goes through the payload codec as a payload of its own (place `bundle` of the
 * pseudo-run `bundle:<hash>`): encrypted under the current key when one is set, so the workflow
 * code in the database is as private as the runs' data, and re-encrypted by `rekey`. A copy
 * stored in clear before a key was set is encrypted by the next process with a key that stores
 * that version. Integrity does not rest on the envelope: whatever it is, the code must hash to the
 * hash the run is pinned to. Copies stored before encryption (raw UTF-8, no envelope) still read.
 */
import { registerErrorCode, StepwiseError } from "../errors/base.ts";
import { isEncryptedPayload, type PayloadCodec, type PayloadScope } from "../serde/payload.ts";
import type { EventRecord } from "../world/events.ts";
import type { BundleRecord, World } from "../world/types.ts";
import {
  bundleHash,
  getBundleVersion,
  getWorkflowBundle,
  loadBundleVersion,
  type WorkflowBundle,
} from "./registry.ts";
import { SPEC_VERSION } from "./version.ts";

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
const decoder = new TextDecoder();
/** Where a bundle's code sits, for the codec (its binding and its messages). */
export const BUNDLE_PLACE = "bundle";
const PLAIN = 0x01;

/** The pseudo-run a bundle's code is a payload of: bound to its hash, so it cannot be swapped. */
export function bundleScope(hash: string): PayloadScope {
  return { runId: `bundle:${hash}`, encrypted: false, specVersion: SPEC_VERSION };
}

/**
 * Stores `bundle` in `world` unless this process stored it there already, through `payloads`
 * (encrypted when it has a key). A copy stored in clear earlier is replaced by an encrypted one.
 */
export async function storeBundle(
  world: World,
  bundle: WorkflowBundle,
  payloads: PayloadCodec,
): Promise<void> {
  let hashes = stored.get(world);
  if (hashes === undefined) {
    hashes = new Set();
    stored.set(world, hashes);
  }
  // Per key too: a process may store with another codec (a key set later, a test environment).
  const memo = `${bundle.hash}:${payloads.keyId ?? ""}`;
  if (hashes.has(memo)) return;
  const code = payloads.encode(bundleScope(bundle.hash), BUNDLE_PLACE, bundle.code);
  await world.bundles.put({
    hash: bundle.hash,
    filename: bundle.filename,
    workflowIds: [...bundle.workflowIds],
    code,
  });
  if (payloads.keyId !== undefined) {
    // Stored in clear before a key was set (a put never replaces): encrypt that copy now.
    const existing = await world.bundles.get(bundle.hash);
    if (!isEncryptedPayload(existing.code) && bundleText(existing, payloads) === bundle.code)
      await world.bundles.rewrite(bundle.hash, existing.code, code);
  }
  hashes.add(memo);
}

/**
 * The code of a stored bundle, opened with `payloads` (`PayloadDecryptionError` when it is
 * encrypted under a key this process does not have, or was altered) and checked against its hash
 * (`BundleIntegrityError`).
 */
export function bundleCode(record: BundleRecord, payloads: PayloadCodec): string {
  const code = bundleText(record, payloads);
  const actual = bundleHash(code);
  if (actual !== record.hash) throw new BundleIntegrityError(record.hash, actual);
  return code;
}

/** The text of a stored bundle's bytes: an envelope of the codec, or raw UTF-8 (stored before envelopes). */
function bundleText(record: BundleRecord, payloads: PayloadCodec): string {
  const first = record.code[0];
  if (first === PLAIN || isEncryptedPayload(record.code))
    return payloads.decode(bundleScope(record.hash), BUNDLE_PLACE, record.code);
  return decoder.decode(record.code);
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
  payloads: PayloadCodec,
): Promise<WorkflowBundle | undefined> {
  const current = getWorkflowBundle(workflowName);
  const hash = pinnedHash(events);
  if (hash === undefined || hash === current?.hash) return current;
  const known = getBundleVersion(hash);
  if (known !== undefined) return known;
  const record = await world.bundles.get(hash);
  const code = bundleCode(record, payloads);
  return loadBundleVersion(
    { code, filename: `${record.filename} (version ${hash.slice(0, 12)})`, workflowIds: record.workflowIds },
    hash,
  );
}
