/**
 * Moving runs to the current version of their workflow code on purpose (`npx stepwise upgrade`).
 * A run is pinned to the code it started with (`runtime/bundles.ts`); upgrading it appends
 * `run_upgraded { fromHash?, toHash }`, after which every worker replays it with the current
 * bundle. It is moved only if its whole log replays against the current code
 * (`ops/replay-check.ts`, the same replay a worker does): a run that would diverge is reported with
 * its first divergence and left as it was.
 *
 * The check and the append are made under the run's lease (`runs.acquire`), so no worker extends
 * the log in between, and the append is fenced on the sequence number of the log that was
 * checked: a run that moved anyway (an append without a lease) is checked again, never upgraded
 * blindly. A run a worker is driving right now (executing steps) is waited for, up to
 * `busyWaitMs`, then reported as busy. Runs that have ended are skipped; runs already at the
 * current version are left alone. The current bundle is stored in the World before the append,
 * so every worker can load it.
 */
import { RunNotFoundError, SequenceConflictError } from "../errors/world.ts";
import { pinnedHash, storeBundle } from "../runtime/bundles.ts";
import { letGoOfRun } from "../runtime/let-go.ts";
import type { Limits } from "../runtime/limits.ts";
import type { Divergence } from "../runtime/machine.ts";
import { getWorkflowBundle, type WorkflowBundle } from "../runtime/registry.ts";
import { SPEC_VERSION } from "../runtime/version.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { newOwnerId } from "../util/owner.ts";
import { type RunRecord, TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import { checkLog } from "./replay-check.ts";

/**
 * upgraded: moved to the current version; safe: would be moved (a dry run); current: already at
 * it; ended: the run has ended (nothing to move); diverged: its log does not replay against the
 * current code (left alone); not-loaded: its workflow is not in the loaded code; unreadable: a
 * payload this process cannot decrypt; unsupported: a run whose format this version does not
 * upgrade; busy: a worker kept driving it; changed: its log kept moving while it was checked;
 * not-found: no such run; failed: the replay or the append threw.
 */
export type UpgradeVerdict =
  | "upgraded"
  | "safe"
  | "current"
  | "ended"
  | "diverged"
  | "not-loaded"
  | "unreadable"
  | "unsupported"
  | "busy"
  | "changed"
  | "not-found"
  | "failed";

/** The verdicts that leave a run that should have moved where it was (a non-zero exit). */
export const LEFT_ALONE: ReadonlySet<UpgradeVerdict> = new Set([
  "diverged",
  "not-loaded",
  "unreadable",
  "unsupported",
  "busy",
  "changed",
  "not-found",
  "failed",
]);

export interface UpgradeResult {
  runId: string;
  verdict: UpgradeVerdict;
  workflowName?: string;
  status?: RunRecord["status"];
  /** The version the run was at (absent: older than pinning, or unknown). */
  fromHash?: string;
  /** The current version (absent when the workflow is not loaded). */
  toHash?: string;
  /** Where the log and the current code part (`diverged`). */
  divergence?: Divergence;
  /** What happened, in words (every verdict but `upgraded` and `safe`). */
  message?: string;
}

export interface UpgradeOptions {
  world: World;
  payloads: PayloadCodec;
  limits: Limits;
  /** Check only: report what would move (`safe`), append nothing. */
  dryRun?: boolean;
  /** How long to wait for a worker driving a run to let go of it (default 10 s), then `busy`. */
  busyWaitMs?: number;
  /** Told of each run once it is done with. */
  onResult?: (result: UpgradeResult) => void;
}

export interface UpgradeSummary {
  checked: number;
  byVerdict: Record<UpgradeVerdict, number>;
  results: UpgradeResult[];
}

/** Which runs to upgrade: these ids, or every run in flight of these workflows (full ids). */
export type UpgradeSelection = { runIds: readonly string[] } | { workflows: readonly string[] };

/** How long the upgrade holds a run's lease: the replay of a long log must fit. */
const LEASE_MS = 60_000;
const DEFAULT_BUSY_WAIT_MS = 10_000;
/** Checks of a run whose log moved under the check, before it is reported as `changed`. */
const ATTEMPTS = 3;
const PAGE = 200;
const POLL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Upgrades the selected runs one at a time; see the module comment. */
export async function upgradeRuns(
  options: UpgradeOptions,
  selection: UpgradeSelection,
): Promise<UpgradeSummary> {
  const summary: UpgradeSummary = {
    checked: 0,
    byVerdict: {
      upgraded: 0,
      safe: 0,
      current: 0,
      ended: 0,
      diverged: 0,
      "not-loaded": 0,
      unreadable: 0,
      unsupported: 0,
      busy: 0,
      changed: 0,
      "not-found": 0,
      failed: 0,
    },
    results: [],
  };
  const record = (result: UpgradeResult): void => {
    summary.checked += 1;
    summary.byVerdict[result.verdict] += 1;
    summary.results.push(result);
    options.onResult?.(result);
  };
  if ("runIds" in selection) {
    for (const runId of new Set(selection.runIds)) record(await upgradeRun(options, runId));
    return summary;
  }
  if (selection.workflows.length === 0) return summary;
  // Every run in flight first (ids only: the runs are read again, one by one, as they are moved).
  const runIds: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await options.world.runs.list({
      limit: PAGE,
      workflowName: selection.workflows,
      status: ["pending", "running", "pausing", "paused"],
      ...(cursor === undefined ? {} : { cursor }),
    });
    runIds.push(...page.items.map((run) => run.runId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  for (const runId of runIds) record(await upgradeRun(options, runId));
  return summary;
}

/** Upgrades one run (see the module comment); never throws for what a run is, only reports it. */
export async function upgradeRun(options: UpgradeOptions, runId: string): Promise<UpgradeResult> {
  let run: RunRecord;
  try {
    run = await options.world.runs.get(runId);
  } catch (error) {
    if (!RunNotFoundError.is(error)) throw error;
    return {
      runId,
      verdict: "not-found",
      message: `no run with id ${runId} in this World (check the id, and STEPWISE_WORLD / STEPWISE_DATA_DIR)`,
    };
  }
  const settled = beforeCheck(run);
  if (settled !== undefined) return settled;
  const bundle = getWorkflowBundle(run.workflowName) as WorkflowBundle;
  if (options.dryRun) {
    const events = await options.world.events.list(runId);
    return verdictOf(run, bundle, await checkLog(options, run, events), pinnedHash(events), "safe");
  }

  const owner = newOwnerId();
  const busyUntil = Date.now() + (options.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS);
  for (let attempt = 1; ; attempt++) {
    const taken = await acquire(options.world, runId, owner, busyUntil);
    if (!taken.acquired) {
      return {
        ...baseOf(taken.run, bundle),
        verdict: "busy",
        message: `a worker is driving the run (it holds its lease, executing steps) and did not let go within ${Math.round((options.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS) / 1000)} s; try again when it sleeps or waits`,
      };
    }
    let released = false;
    let asked = false;
    try {
      run = taken.run;
      const again = beforeCheck(run);
      if (again !== undefined) return again;
      const events = await options.world.events.list(runId);
      const fromHash = pinnedHash(events);
      const checked = verdictOf(run, bundle, await checkLog(options, run, events), fromHash, "upgraded");
      if (checked.verdict !== "upgraded") return checked;
      await storeBundle(options.world, bundle, options.payloads);
      const expectedSeq = events.at(-1)?.seq ?? run.seq;
      try {
        const result = await options.world.events.append({
          runId,
          expectedSeq,
          owner,
          events: [
            {
              type: "run_upgraded",
              data: fromHash === undefined ? { toHash: bundle.hash } : { fromHash, toHash: bundle.hash },
            },
          ],
          releaseLease: true,
        });
        released = result.leaseReleased ?? false;
        asked = !released;
        return checked;
      } catch (error) {
        // The log moved after it was read (someone appended without the lease): check it again.
        if (!SequenceConflictError.is(error)) throw error;
        if (attempt >= ATTEMPTS) {
          return {
            ...baseOf(run, bundle),
            verdict: "changed",
            message: `the run's log kept changing while it was checked (${ATTEMPTS} times); nothing was appended. Try again.`,
          };
        }
      }
    } catch (error) {
      return {
        ...baseOf(run, bundle),
        verdict: "failed",
        message: (error as Error).message ?? String(error),
      };
    } finally {
      if (!released) await letGoOfRun(options.world, runId, owner, asked);
    }
  }
}

/** The verdicts decided from the run's record alone, before its log is read; undefined: check it. */
function beforeCheck(run: RunRecord): UpgradeResult | undefined {
  const bundle = getWorkflowBundle(run.workflowName);
  const base = baseOf(run, bundle);
  if (TERMINAL_RUN_STATUSES.has(run.status))
    return { ...base, verdict: "ended", message: `the run has ended (${run.status}): nothing to move` };
  if (bundle === undefined) {
    return {
      ...base,
      verdict: "not-loaded",
      message: `workflow ${run.workflowName} is not in the loaded code (removed or renamed, or its file was not loaded: --load <file>), so there is no current version to move it to`,
    };
  }
  if (run.bundleHash === bundle.hash) {
    return { ...base, verdict: "current", message: "already at the current version" };
  }
  if (run.specVersion < 2 || run.specVersion > SPEC_VERSION) {
    return {
      ...base,
      verdict: "unsupported",
      message:
        run.specVersion < 2
          ? `the run was created by Stepwise format ${run.specVersion}, whose payloads are read by that format: it cannot be moved; let it finish on the code it has`
          : `the run was created by a newer Stepwise (format ${run.specVersion}, this one knows ${SPEC_VERSION}); upgrade it with that version`,
    };
  }
  return undefined;
}

/** The run's result from its replay check: `ok` becomes `success`, the rest is reported as checked. */
function verdictOf(
  run: RunRecord,
  bundle: WorkflowBundle,
  checked: Awaited<ReturnType<typeof checkLog>>,
  fromHash: string | undefined,
  success: "upgraded" | "safe",
): UpgradeResult {
  const base = baseOf(run, bundle);
  if (fromHash !== undefined) base.fromHash = fromHash;
  else delete base.fromHash;
  if (checked.verdict === "ok") return { ...base, verdict: success };
  const result: UpgradeResult = {
    ...base,
    verdict: checked.verdict,
    message: checked.message ?? checked.verdict,
  };
  if (checked.divergence !== undefined) result.divergence = checked.divergence;
  return result;
}

/** What every result of `run` says: its id, workflow, status and both versions. */
function baseOf(run: RunRecord, bundle: WorkflowBundle | undefined): UpgradeResult & { verdict: never } {
  const result = { runId: run.runId, workflowName: run.workflowName, status: run.status } as UpgradeResult;
  if (run.bundleHash !== undefined) result.fromHash = run.bundleHash;
  if (bundle !== undefined) result.toHash = bundle.hash;
  return result as UpgradeResult & { verdict: never };
}

/**
 * Takes the run's lease, waiting while a worker holds it (without asking for the run, which
 * would make a driver look again) until `busyUntil`; then one last try, which does ask.
 */
async function acquire(
  world: World,
  runId: string,
  owner: string,
  busyUntil: number,
): Promise<{ acquired: boolean; run: RunRecord }> {
  for (;;) {
    const run = await world.runs.get(runId);
    const held = run.lease !== undefined && run.lease.owner !== owner && run.lease.expiresAt > Date.now();
    if (!held || Date.now() >= busyUntil) {
      const taken = await world.runs.acquire(runId, owner, LEASE_MS);
      if (taken.acquired || Date.now() >= busyUntil) return taken;
    }
    await sleep(POLL_MS);
  }
}
