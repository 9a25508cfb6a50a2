/**
 * Conformance: the projections an append keeps (in the same transaction) from the events: the run's
 * status, timestamps, output and error; steps across attempts (running, retrying, completed,
 * failed); waits. Hooks have their own file.
 */
import { describe, expect, it } from "vitest";
import { NotFoundError, RunFinishedError, RunNotFoundError } from "../../errors/world.ts";
import {
  appendedOf,
  appendNext,
  createRun,
  expectBytes,
  expectReject,
  startedRun,
  stepStarted,
  utf8,
} from "./fixtures.ts";
import { LONG, type WorldContext } from "./harness.ts";

export function describeProjections(t: WorldContext): void {
  describe("projections: runs", () => {
    it("run_started makes the run running and sets startedAt", async () => {
      const run = await createRun(t.world);
      await t.advance(10);
      const result = await appendNext(t.world, run.runId, [{ type: "run_started", data: {} }]);
      const started = await t.world.runs.get(run.runId);
      expect(started.status).toBe("running");
      expect(started.startedAt).toBe(result.events[0]?.createdAt);
      t.expectTime(started.startedAt, t.now());
      expect(started.completedAt).toBeUndefined();
      expect(result.run).toEqual(appendedOf(started));
    });

    it("run_completed stores the output and completedAt", async () => {
      const run = await startedRun(t.world);
      await t.advance(10);
      const result = await appendNext(t.world, run.runId, [
        { type: "run_completed", data: {}, payload: utf8('"done"') },
      ]);
      const done = await t.world.runs.get(run.runId);
      expect(done.status).toBe("completed");
      expectBytes(done.output, utf8('"done"'));
      expect(done.error).toBeUndefined();
      expect(done.completedAt).toBe(result.events[0]?.createdAt);
      expect(done.startedAt).toBe(run.startedAt);
      expect(result.run).toEqual(appendedOf(done));
    });

    it("run_failed stores the error; run_cancelled only the status", async () => {
      const failing = await startedRun(t.world);
      await appendNext(t.world, failing.runId, [
        { type: "run_failed", data: { reason: "x" }, payload: utf8("boom") },
      ]);
      const failed = await t.world.runs.get(failing.runId);
      expect(failed.status).toBe("failed");
      expectBytes(failed.error, utf8("boom"));
      expect(failed.output).toBeUndefined();
      t.expectTime(failed.completedAt, t.now());

      const cancelling = await createRun(t.world);
      await appendNext(t.world, cancelling.runId, [{ type: "run_cancelled", data: {} }]);
      const cancelled = await t.world.runs.get(cancelling.runId);
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.startedAt).toBeUndefined();
      t.expectTime(cancelled.completedAt, t.now());
    });

    it("a run can end in the same append as its last step, and then takes no more events", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [
        stepStarted("a"),
        { type: "step_completed", data: { stepId: "a", attempt: 1 }, payload: utf8("1") },
        { type: "run_completed", data: {}, payload: utf8("2") },
      ]);
      const done = await t.world.runs.get(run.runId);
      expect(done).toMatchObject({ status: "completed", seq: 5 });
      expect((await t.world.steps.get(run.runId, "a")).status).toBe("completed");
      await expectReject(
        t.world.events.append({ runId: run.runId, expectedSeq: 5, events: [stepStarted("b")] }),
        RunFinishedError,
        true,
      );
    });
  });

  describe("projections: steps", () => {
    it("follows a step through retries to completion", async () => {
      const run = await startedRun(t.world);
      const first = await appendNext(t.world, run.runId, [stepStarted("step_a", 1, utf8("args"))]);
      const startedAt = first.events[0]?.createdAt ?? 0;
      let step = await t.world.steps.get(run.runId, "step_a");
      expect(step).toMatchObject({
        runId: run.runId,
        stepId: "step_a",
        stepName: "conformance/step",
        status: "running",
        attempt: 1,
        createdAt: startedAt,
        startedAt,
        updatedAt: startedAt,
      });
      expectBytes(step.input, utf8("args"));
      expect(step.output).toBeUndefined();
      expect(step.completedAt).toBeUndefined();

      await t.advance(100);
      const retryAt = t.now() + 5000;
      const retrying = await appendNext(t.world, run.runId, [
        { type: "step_retrying", data: { stepId: "step_a", attempt: 1, retryAt }, payload: utf8("err1") },
      ]);
      step = await t.world.steps.get(run.runId, "step_a");
      expect(step).toMatchObject({
        status: "retrying",
        attempt: 1,
        retryAt,
        createdAt: startedAt,
        startedAt,
      });
      expect(step.updatedAt).toBe(retrying.events[0]?.createdAt);
      expectBytes(step.error, utf8("err1"));

      await t.advance(100);
      const second = await appendNext(t.world, run.runId, [stepStarted("step_a", 2)]);
      const secondAt = second.events[0]?.createdAt ?? 0;
      step = await t.world.steps.get(run.runId, "step_a");
      expect(step).toMatchObject({
        status: "running",
        attempt: 2,
        createdAt: startedAt,
        startedAt: secondAt,
      });
      expect(step.updatedAt).toBe(secondAt);
      expectBytes(step.input, utf8("args"));

      await t.advance(100);
      const done = await appendNext(t.world, run.runId, [
        { type: "step_completed", data: { stepId: "step_a", attempt: 2 }, payload: utf8("result") },
      ]);
      step = await t.world.steps.get(run.runId, "step_a");
      expect(step).toMatchObject({ status: "completed", attempt: 2, completedAt: done.events[0]?.createdAt });
      expectBytes(step.output, utf8("result"));
      if (t.fakeClock) expect(step.completedAt).toBeGreaterThan(step.startedAt);
    });

    it("records a step that fails for good", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [stepStarted("step_f")]);
      const failed = await appendNext(t.world, run.runId, [
        { type: "step_failed", data: { stepId: "step_f", attempt: 1, fatal: true }, payload: utf8("fatal") },
      ]);
      const step = await t.world.steps.get(run.runId, "step_f");
      expect(step).toMatchObject({ status: "failed", attempt: 1, completedAt: failed.events[0]?.createdAt });
      expectBytes(step.error, utf8("fatal"));
      expect((await t.world.runs.get(run.runId)).status).toBe("running");
    });

    it("lists a run's steps in the order they were first started", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [stepStarted("step_z"), stepStarted("step_a")]);
      await appendNext(t.world, run.runId, [
        { type: "step_retrying", data: { stepId: "step_z", attempt: 1, retryAt: t.now() } },
        stepStarted("step_m"),
      ]);
      await appendNext(t.world, run.runId, [stepStarted("step_z", 2)]);
      const steps = await t.world.steps.list(run.runId);
      expect(steps.map((step) => [step.stepId, step.attempt])).toEqual([
        ["step_z", 2],
        ["step_a", 1],
        ["step_m", 1],
      ]);
      const other = await startedRun(t.world);
      expect(await t.world.steps.list(other.runId)).toEqual([]);
    });

    it("steps.get throws NotFoundError for an unknown step, steps.list RunNotFoundError for an unknown run", async () => {
      const run = await startedRun(t.world);
      await expectReject(t.world.steps.get(run.runId, "step_missing"), NotFoundError, true);
      await expectReject(t.world.steps.list("wrun_missing"), RunNotFoundError, true);
    });

    it("steps of different runs with the same id are distinct", async () => {
      const a = await startedRun(t.world);
      const b = await startedRun(t.world);
      await appendNext(t.world, a.runId, [stepStarted("step_same", 1, utf8("a"))]);
      await appendNext(t.world, b.runId, [stepStarted("step_same", 1, utf8("b"))]);
      await appendNext(t.world, b.runId, [
        { type: "step_completed", data: { stepId: "step_same", attempt: 1 } },
      ]);
      expect((await t.world.steps.get(a.runId, "step_same")).status).toBe("running");
      expect((await t.world.steps.get(b.runId, "step_same")).status).toBe("completed");
      expectBytes((await t.world.steps.get(a.runId, "step_same")).input, utf8("a"));
    });
  });

  describe("projections: waits", () => {
    it("wait_created and wait_completed keep the wait", async () => {
      const run = await startedRun(t.world);
      const resumeAt = t.now() + LONG;
      const created = await appendNext(t.world, run.runId, [
        { type: "wait_created", data: { waitId: "wait_1", resumeAt } },
      ]);
      expect(await t.world.waits.list({ runId: run.runId })).toEqual([
        {
          runId: run.runId,
          waitId: "wait_1",
          kind: "sleep",
          resumeAt,
          status: "waiting",
          createdAt: created.events[0]?.createdAt,
        },
      ]);
      await t.advance(10);
      const completed = await appendNext(t.world, run.runId, [
        { type: "wait_completed", data: { waitId: "wait_1" } },
      ]);
      const [wait] = await t.world.waits.list({ runId: run.runId });
      expect(wait).toMatchObject({
        status: "completed",
        completedAt: completed.events[0]?.createdAt,
        resumeAt,
      });
    });

    it("lists a run's waits in creation order and all waits newest first, filtered by status", async () => {
      const a = await startedRun(t.world);
      const b = await startedRun(t.world);
      await appendNext(t.world, b.runId, [
        { type: "wait_created", data: { waitId: "wait_b1", resumeAt: 1 } },
      ]);
      await appendNext(t.world, a.runId, [
        { type: "wait_created", data: { waitId: "wait_a1", resumeAt: 2 } },
      ]);
      await appendNext(t.world, a.runId, [
        { type: "wait_created", data: { waitId: "wait_a2", resumeAt: 3 } },
      ]);
      await appendNext(t.world, b.runId, [{ type: "wait_completed", data: { waitId: "wait_b1" } }]);
      const ids = (waits: { waitId: string }[]) => waits.map((wait) => wait.waitId);
      expect(ids(await t.world.waits.list({ runId: a.runId }))).toEqual(["wait_a1", "wait_a2"]);
      expect(ids(await t.world.waits.list())).toEqual(["wait_a2", "wait_a1", "wait_b1"]);
      expect(ids(await t.world.waits.list({ status: "waiting" }))).toEqual(["wait_a2", "wait_a1"]);
      expect(ids(await t.world.waits.list({ status: "completed" }))).toEqual(["wait_b1"]);
      expect(ids(await t.world.waits.list({ limit: 2 }))).toEqual(["wait_a2", "wait_a1"]);
      expect(ids(await t.world.waits.list({ runId: a.runId, limit: 1 }))).toEqual(["wait_a1"]);
      expect(ids(await t.world.waits.list({ runId: b.runId, status: "waiting" }))).toEqual([]);
    });

    it("a run that ends cancels the sleeps it still waits on, however it ends, and no others", async () => {
      const endings = [
        { type: "run_completed", data: {} },
        { type: "run_failed", data: {}, payload: utf8("boom") },
        { type: "run_cancelled", data: { reason: "cancelled" } },
      ] as const;
      const other = await startedRun(t.world);
      await appendNext(t.world, other.runId, [
        { type: "wait_created", data: { waitId: "wait_other", resumeAt: t.now() + LONG } },
      ]);
      for (const ending of endings) {
        const run = await startedRun(t.world);
        await appendNext(t.world, run.runId, [
          { type: "wait_created", data: { waitId: "wait_done", resumeAt: t.now() + 10 } },
          { type: "wait_created", data: { waitId: "wait_open", resumeAt: t.now() + LONG } },
        ]);
        await t.advance(10);
        const done = await appendNext(t.world, run.runId, [
          { type: "wait_completed", data: { waitId: "wait_done" } },
        ]);
        await t.advance(10);
        const ended = await appendNext(t.world, run.runId, [ending]);
        const at = ended.events[0]?.createdAt;
        const waits = await t.world.waits.list({ runId: run.runId });
        expect(
          waits.map((wait) => [wait.waitId, wait.status, wait.completedAt]),
          ending.type,
        ).toEqual([
          ["wait_done", "completed", done.events[0]?.createdAt],
          ["wait_open", "cancelled", at],
        ]);
        expect(await t.world.waits.list({ runId: run.runId, status: "waiting" })).toEqual([]);
        expect(
          (await t.world.waits.list({ runId: run.runId, status: "cancelled" })).map((w) => w.waitId),
        ).toEqual(["wait_open"]);
      }
      // Another run's sleep waits on.
      expect((await t.world.waits.list({ status: "waiting" })).map((wait) => wait.waitId)).toEqual([
        "wait_other",
      ]);
    });

    it("waits.list of an unknown run throws RunNotFoundError", async () => {
      await expectReject(t.world.waits.list({ runId: "wrun_missing" }), RunNotFoundError, true);
    });
  });
}
