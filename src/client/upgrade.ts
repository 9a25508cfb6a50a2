/**
 * `upgradeRun(runId)` for application code: moves a run to the version of its workflow this
 * process has registered, once its log replays against it — what `npx stepwise upgrade <runId>`
 * does, with a client's World, payload keys and limits (the logic is `ops/upgrade.ts`).
 */
import type { UpgradeResult } from "../ops/upgrade.ts";
import type { ClientContext } from "./context.ts";

export type { UpgradeResult, UpgradeVerdict } from "../ops/upgrade.ts";

export interface UpgradeRunOptions {
  /** Check only: `safe` if the run would move; nothing is written. */
  dryRun?: boolean;
  /** How long to wait for a worker driving the run to let go of it (default 10 s), then `busy`. */
  busyWaitMs?: number;
}

/**
 * Moves the run `runId` of `context`'s World to the registered version of its workflow (see
 * `Client.upgradeRun`). @internal
 */
export async function upgradeRunIn(
  context: ClientContext,
  runId: string,
  options: UpgradeRunOptions = {},
): Promise<UpgradeResult> {
  // Loaded on use: the replay check brings the sandbox and esbuild, which a process that never
  // upgrades (the engine server) need not load.
  const { upgradeRun: upgrade } = await import("../ops/upgrade.ts");
  return upgrade(
    {
      world: await context.world(),
      payloads: context.payloads(),
      limits: context.limits(),
      ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
      ...(options.busyWaitMs === undefined ? {} : { busyWaitMs: options.busyWaitMs }),
    },
    runId,
  );
}
