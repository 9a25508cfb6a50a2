/**
 * Conformance: a run's trace context (OpenTelemetry, docs/tracing.md). A run created with a
 * `traceparent` (and `tracestate`) carries them in its `run_created` event exactly as given, alone
 * or in a batch, and keeps them when it is exported and imported into another World: every
 * worker that drives the run, wherever it moved, emits its spans in the trace it was started in.
 */
import { describe, expect, it } from "vitest";
import { createMemoryWorld } from "../../worlds/memory/index.ts";
import { runInput } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE = "vendor=opaque,other=1";

export function describeTraceContext(t: WorldContext): void {
  describe("trace context", () => {
    it("records the trace context a run is created with in its run_created event", async () => {
      const context = { traceparent: TRACEPARENT, tracestate: TRACESTATE };
      const one = await t.world.runs.create(runInput(context));
      const [batched] = await t.world.runs.createMany([runInput({ traceparent: TRACEPARENT })]);
      const plain = await t.world.runs.create(runInput());
      const [first] = await t.world.events.list(one.runId);
      expect(first).toMatchObject({ type: "run_created", data: context });
      const [second] = await t.world.events.list(batched?.run.runId ?? "");
      expect(second?.data).toMatchObject({ traceparent: TRACEPARENT });
      expect(second?.data).not.toHaveProperty("tracestate");
      const [third] = await t.world.events.list(plain.runId);
      expect(third?.data).not.toHaveProperty("traceparent");
    });

    it("keeps a run's trace context through runs.import", async () => {
      const source = createMemoryWorld({ now: () => t.now() - 60_000 });
      const run = await source.runs.create(runInput({ traceparent: TRACEPARENT, tracestate: TRACESTATE }));
      const imported = await t.world.runs.import({
        runId: run.runId,
        workflowName: run.workflowName,
        specVersion: run.specVersion,
        seed: run.seed,
        encrypted: run.encrypted,
        events: await source.events.list(run.runId),
        messages: [{ kind: "start", availableAt: run.createdAt }],
      });
      expect(imported.imported).toBe(true);
      const [created] = await t.world.events.list(run.runId);
      expect(created?.data).toMatchObject({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
      await source.close();
    });
  });
}
