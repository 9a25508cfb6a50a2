/**
 * Conformance: creating runs under ids the caller chose. `runs.create` and `runs.createMany` are
 * idempotent on the run id (the same id and workflow return the existing run and write nothing),
 * refuse an id held by another workflow with `RunIdConflictError`, and a batch is all or nothing,
 * one commit and one queue notification. Of concurrent creates of one id, exactly one writes.
 */
import { describe, expect, it } from "vitest";
import { ConflictError, RunIdConflictError, RunNotFoundError } from "../../errors/world.ts";
import type { WorldNotification } from "../types.ts";
import {
  appendNext,
  createRun,
  expectReject,
  runInput,
  sleep,
  snapshot,
  utf8,
  WORKFLOW,
} from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

const OTHER = "conformance/other-workflow";

export function describeCreate(t: WorldContext): void {
  describe("runs.create and runs.createMany: ids chosen by the caller", () => {
    it("create with an existing id and the same workflow returns the existing run and writes nothing", async () => {
      const first = runInput({ runId: "order-7", seed: "seed-first", input: utf8("first") });
      await t.world.runs.create(first);
      await appendNext(t.world, "order-7", [{ type: "run_started", data: {} }]);
      const before = await snapshot(t.world, ["order-7"]);
      const heard: WorldNotification[] = [];
      const unsubscribe = t.world.subscribe((notification) => heard.push(notification));
      const again = await t.world.runs.create({ ...first, seed: "seed-second", input: utf8("second") });
      await sleep(20);
      unsubscribe();
      expect(again).toEqual(await t.world.runs.get("order-7"));
      expect(again).toMatchObject({ runId: "order-7", seed: "seed-first", status: "running", seq: 2 });
      expect(await snapshot(t.world, ["order-7"])).toEqual(before);
      expect(heard.filter((n) => n.type === "queue")).toEqual([]);
    });

    it("create with an id held by another workflow throws RunIdConflictError naming both, and writes nothing", async () => {
      await t.world.runs.create(runInput({ runId: "invoice:2024.07" }));
      const before = await snapshot(t.world, ["invoice:2024.07"]);
      const error = await expectReject(
        t.world.runs.create(runInput({ runId: "invoice:2024.07", workflowName: OTHER })),
        RunIdConflictError,
        true,
      );
      expect(ConflictError.is(error)).toBe(true);
      expect(error).toMatchObject({
        runId: "invoice:2024.07",
        workflowName: WORKFLOW,
        requestedWorkflowName: OTHER,
      });
      expect(error.message).toContain(WORKFLOW);
      expect(await snapshot(t.world, ["invoice:2024.07"])).toEqual(before);
    });

    it("takes ids as given: case matters, and every allowed character works", async () => {
      const ids = ["Order-1", "order-1", "a", "A_b.c:d-e", "x".repeat(100)];
      for (const runId of ids) await createRun(t.world, { runId, createdAt: 1000 });
      for (const runId of ids) expect((await t.world.runs.get(runId)).runId).toBe(runId);
      const listed = (await t.world.runs.list({ limit: 3 })).items.map((run) => run.runId);
      const next = await t.world.runs.list({ limit: 10, cursor: listed[2] as string });
      expect([...listed, ...next.items.map((run) => run.runId)].sort()).toEqual([...ids].sort());
    });

    it("concurrent creates of one id: exactly one writes, and every caller gets its run", async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.world.runs.create(runInput({ runId: "signup:ada", seed: `seed-${i}`, input: utf8(`${i}`) })),
        ),
      );
      const stored = await t.world.runs.get("signup:ada");
      for (const run of results) expect(run.seed).toBe(stored.seed);
      expect(await t.world.events.list("signup:ada")).toHaveLength(1);
      expect(await t.world.queue.list("signup:ada")).toHaveLength(1);
    });

    it("createMany creates every run in order, each with its run_created event and start message", async () => {
      const inputs = [
        runInput({ runId: "batch-a", input: utf8("a") }),
        runInput({ input: utf8("generated") }),
        runInput({ runId: "batch-c", workflowName: OTHER, input: utf8("c") }),
      ];
      const results = await t.world.runs.createMany(inputs);
      expect(results.map((result) => [result.run.runId, result.created])).toEqual(
        inputs.map((input) => [input.runId, true]),
      );
      for (const [index, input] of inputs.entries()) {
        const run = await t.world.runs.get(input.runId);
        expect(results[index]?.run).toEqual(run);
        expect(run).toMatchObject({ status: "pending", seq: 1, workflowName: input.workflowName });
        const events = await t.world.events.list(input.runId);
        expect(events.map((event) => event.type)).toEqual(["run_created"]);
        expect(Buffer.from(events[0]?.payload ?? []).toString()).toBe(Buffer.from(input.input).toString());
        expect((await t.world.queue.list(input.runId)).map((message) => message.kind)).toEqual(["start"]);
      }
      const claimed = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: 1000 });
      expect(claimed.map((message) => message.runId).sort()).toEqual(inputs.map((i) => i.runId).sort());
    });

    it("createMany returns existing runs of the same workflow with created: false and creates the rest", async () => {
      const existing = await createRun(t.world, { runId: "batch-existing" });
      const before = await snapshot(t.world, ["batch-existing"]);
      const results = await t.world.runs.createMany([
        runInput({ runId: "batch-new-1" }),
        runInput({ runId: "batch-existing", seed: "another seed" }),
        runInput({ runId: "batch-new-2" }),
      ]);
      expect(results.map((result) => [result.run.runId, result.created])).toEqual([
        ["batch-new-1", true],
        ["batch-existing", false],
        ["batch-new-2", true],
      ]);
      expect(results[1]?.run).toEqual(existing);
      expect(await snapshot(t.world, ["batch-existing"])).toEqual(before);
    });

    it("createMany is all or nothing: an id held by another workflow writes nothing of the batch", async () => {
      await createRun(t.world, { runId: "held" });
      const before = await snapshot(t.world, ["held"]);
      const error = await expectReject(
        t.world.runs.createMany([
          runInput({ runId: "atomic-1" }),
          runInput({ runId: "atomic-2" }),
          runInput({ runId: "held", workflowName: OTHER }),
          runInput({ runId: "atomic-3" }),
        ]),
        RunIdConflictError,
        true,
      );
      expect(error).toMatchObject({ runId: "held", workflowName: WORKFLOW, requestedWorkflowName: OTHER });
      for (const runId of ["atomic-1", "atomic-2", "atomic-3"])
        await expectReject(t.world.runs.get(runId), RunNotFoundError);
      expect((await t.world.runs.list()).items.map((run) => run.runId)).toEqual(["held"]);
      expect(await snapshot(t.world, ["held"])).toEqual(before);
      expect(await t.world.queue.claim("owner-a", { limit: 10, leaseMs: 1000 })).toHaveLength(1);
    });

    it("an id given twice in one batch: the second gets the first's run; under another workflow, nothing is written", async () => {
      const results = await t.world.runs.createMany([
        runInput({ runId: "twice", seed: "first" }),
        runInput({ runId: "twice", seed: "second" }),
      ]);
      expect(results.map((result) => [result.run.runId, result.run.seed, result.created])).toEqual([
        ["twice", "first", true],
        ["twice", "first", false],
      ]);
      expect(await t.world.events.list("twice")).toHaveLength(1);
      expect(await t.world.queue.list("twice")).toHaveLength(1);

      await expectReject(
        t.world.runs.createMany([
          runInput({ runId: "mixed-0" }),
          runInput({ runId: "mixed" }),
          runInput({ runId: "mixed", workflowName: OTHER }),
        ]),
        RunIdConflictError,
        true,
      );
      await expectReject(t.world.runs.get("mixed"), RunNotFoundError);
      await expectReject(t.world.runs.get("mixed-0"), RunNotFoundError);
    });

    it("createMany of nothing writes nothing", async () => {
      expect(await t.world.runs.createMany([])).toEqual([]);
      expect((await t.world.runs.list()).items).toEqual([]);
    });

    it("one batch is one queue notification", async () => {
      const heard: WorldNotification[] = [];
      const unsubscribe = t.world.subscribe((notification) => heard.push(notification));
      await t.world.runs.createMany([runInput(), runInput(), runInput(), runInput()]);
      await sleep(50);
      unsubscribe();
      expect(heard.filter((n) => n.type === "queue")).toHaveLength(1);
    });

    it("concurrent batches over the same ids create each run once, whatever their order", async () => {
      const ids = ["race-a", "race-b", "race-c", "race-d"];
      const batches = await Promise.all(
        [ids, [...ids].reverse(), [ids[2], ids[0], ids[3], ids[1]] as string[]].map((order) =>
          t.world.runs.createMany(order.map((runId) => runInput({ runId }))),
        ),
      );
      for (const runId of ids) {
        const created = batches.flat().filter((result) => result.run.runId === runId && result.created);
        expect(created, runId).toHaveLength(1);
        expect(await t.world.events.list(runId)).toHaveLength(1);
        expect(await t.world.queue.list(runId)).toHaveLength(1);
      }
    });
  });
}
