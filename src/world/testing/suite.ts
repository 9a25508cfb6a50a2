/**
 * The World conformance suite: one set of tests that every World (memory, local, postgres, remote,
 * yours) runs unchanged, pinning down each behaviour and error of the contract in
 * `src/world/types.ts`. A World is done when this passes. Loaded by `index.ts` once vitest is
 * known to be installed; see there for usage, and `harness.ts` for the clock.
 */
import { describe } from "vitest";
import { describeAppend } from "./append.ts";
import { describeAtomicity } from "./atomicity.ts";
import { describeAudit } from "./audit.ts";
import { describeBudget } from "./budget.ts";
import { describeBundles } from "./bundles.ts";
import { describeCreate } from "./create.ts";
import { describeEvents } from "./events.ts";
import { type MakeWorld, useWorld } from "./harness.ts";
import { describeHooks } from "./hooks.ts";
import { describeImport } from "./import.ts";
import { describeInbox } from "./inbox.ts";
import { describeLeases } from "./leases.ts";
import { describeLifecycle } from "./lifecycle.ts";
import { describeNotices } from "./notices.ts";
import { describeNotifications } from "./notifications.ts";
import { describePagination } from "./pagination.ts";
import { describePause } from "./pause.ts";
import { describePayloads } from "./payloads.ts";
import { describeProjections } from "./projections.ts";
import { describeQueue } from "./queue.ts";
import { describeQueueFilter } from "./queue-filter.ts";
import { describeQueueRuns } from "./queue-runs.ts";
import { describeQueueVersions } from "./queue-versions.ts";
import { describeRestart } from "./restart.ts";
import { describeRuns } from "./runs.ts";
import { describeStreams } from "./streams.ts";
import { describeTraceContext } from "./trace-context.ts";

export type { ConformanceClock, MakeWorld, WorldUnderTest } from "./harness.ts";

/** Registers the whole suite (one `describe` per resource) against the Worlds `makeWorld` makes. */
export function describeWorldConformance(name: string, makeWorld: MakeWorld): void {
  describe(`World conformance: ${name}`, () => {
    const context = useWorld(makeWorld);
    describeRuns(context);
    describeCreate(context);
    describeAppend(context);
    describeAtomicity(context);
    describeProjections(context);
    describeHooks(context);
    describeLeases(context);
    describeQueue(context);
    describeQueueFilter(context);
    describeQueueRuns(context);
    describeQueueVersions(context);
    describeInbox(context);
    describeEvents(context);
    describeStreams(context);
    describeTraceContext(context);
    describeNotifications(context);
    describePagination(context);
    describeLifecycle(context);
    describeAudit(context);
    describeNotices(context);
    describePayloads(context);
    describeBudget(context);
    describeRestart(context);
    describeBundles(context);
    describePause(context);
    describeImport(context);
  });
}
