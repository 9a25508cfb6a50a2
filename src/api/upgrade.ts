/**
 * `upgradeRun(runId)` for application code: moves a run to the version of its workflow this
 * process has registered, once its log replays against it — what `npx stepwise upgrade <runId>`
 * does, with this process's World, payload keys and limits (the logic is `ops/upgrade.ts`).
 */
import { type UpgradeResult, upgradeRun as upgrade } from "../ops/upgrade.ts";
import { getLimits, getPayloadCodec, getWorld } from "../runtime/process.ts";

export type { UpgradeResult, UpgradeVerdict } from "../ops/upgrade.ts";

export interface UpgradeRunOptions {
  /** Check only: `safe` if the run would move; nothing is written. */
  dryRun?: boolean;
  /** How long to wait for a worker driving the run to let go of it (default 10 s), then `busy`. */
  busyWaitMs?: number;
}

/**
 * Moves the run to the registered version of its workflow if its log replays against it, and
 * says what happened (`verdict`: `upgraded`, or why not — `diverged` with the `divergence`,
 * `current`, `ended`, `busy`, `not-loaded`, `not-found`, …). Never throws for what the run is;
 * only for a World that fails.
 */
export async function upgradeRun(runId: string, options: UpgradeRunOptions = {}): Promise<UpgradeResult> {
  return upgrade(
    {
      world: await getWorld(),
      payloads: getPayloadCodec(),
      limits: getLimits(),
      ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
      ...(options.busyWaitMs === undefined ? {} : { busyWaitMs: options.busyWaitMs }),
    },
    runId,
  );
}
