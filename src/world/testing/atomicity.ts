/**
 * Conformance: an append is all or nothing, and concurrent appends are fenced. A failed append
 * leaves no trace (events, projections, enqueues, inbox takes, acks, lease all unchanged), whatever
 * made it fail; of many appends racing on the same `expectedSeq` exactly one wins; appends to other
 * runs issued at the same moment are unaffected by one that fails.
 */
import { describe, expect, it } from "vitest";
import {
  ConflictError,
  HookTokenConflictError,
  LeaseLostError,
  RunFinishedError,
  SequenceConflictError,
} from "../../errors/world.ts";
import type { AppendRequest } from "../types.ts";
import {
  appendNext,
  createRun,
  type ErrorKind,
  expectReject,
  hookCreated,
  snapshot,
  startedRun,
  stepStarted,
  utf8,
} from "./fixtures.ts";
import { LONG, type WorldContext } from "./harness.ts";

export function describeAtomicity(t: WorldContext): void {
  describe("append atomicity and fencing", () => {
    /** A run in the middle of things: leased to owner-a, a claimed message, an inbox item, a wait, a hook. */
    async function busyRun() {
      const run = await startedRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      await appendNext(
        t.world,
        run.runId,
        [
          { type: "wait_created", data: { waitId: "wait_1", resumeAt: t.now() + LONG } },
          hookCreated(`hook_old_${run.runId}`, `old-${run.runId}`),
        ],
        { owner: "owner-a" },
      );
      await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG });
      const item = await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      const bystander = await createRun(t.world);
      const current = await t.world.runs.get(run.runId);
      const message = (await t.world.queue.list(run.runId)).find((candidate) => candidate.kind === "start");
      /** A request that touches everything; `events` are appended after a few that write projections. */
      const request = ({ events: extra = [], ...overrides }: Partial<AppendRequest> = {}): AppendRequest => ({
        runId: run.runId,
        expectedSeq: current.seq,
        owner: "owner-a",
        events: [
          stepStarted("step_x", 1, utf8("in")),
          { type: "step_completed", data: { stepId: "step_x", attempt: 1 }, payload: utf8("out") },
          { type: "wait_completed", data: { waitId: "wait_1" } },
          { type: "hook_disposed", data: { hookId: `hook_old_${run.runId}` } },
          hookCreated(`hook_new_${run.runId}`, `new-${run.runId}`),
          ...extra,
        ],
        enqueue: [
          { runId: run.runId, kind: "wake", dedupeKey: `x:${run.runId}` },
          { runId: bystander.runId, kind: "poke" },
        ],
        consumeInbox: [item.itemId],
        ack: message ? [message.messageId] : [],
        releaseLease: true,
        ...overrides,
      });
      return { run, bystander, request };
    }

    async function expectNothingWritten(
      runIds: string[],
      attempt: () => Promise<unknown>,
      kind: ErrorKind,
    ): Promise<void> {
      const before = await snapshot(t.world, runIds);
      await expectReject(attempt(), kind, true);
      expect(await snapshot(t.world, runIds)).toEqual(before);
    }

    it("the rich request itself succeeds (the failures below are the only difference)", async () => {
      const { run, request } = await busyRun();
      const result = await t.world.events.append(request());
      expect(result.leaseReleased).toBe(true);
      expect((await t.world.steps.get(run.runId, "step_x")).status).toBe("completed");
      expect(await t.world.inbox.list(run.runId)).toEqual([]);
      expect((await t.world.hooks.getByToken(`new-${run.runId}`)).runId).toBe(run.runId);
    });

    it("writes nothing on a hook token conflict, naming the run that holds the token", async () => {
      const { run, bystander, request } = await busyRun();
      const holder = await startedRun(t.world);
      await appendNext(t.world, holder.runId, [hookCreated("hook_holder", "taken")]);
      const before = await snapshot(t.world, [run.runId, bystander.runId, holder.runId]);
      const error = await expectReject(
        t.world.events.append(request({ events: [hookCreated("hook_late", "taken")] })),
        HookTokenConflictError,
        true,
      );
      expect(error).toMatchObject({ token: "taken", heldByRunId: holder.runId });
      expect(await snapshot(t.world, [run.runId, bystander.runId, holder.runId])).toEqual(before);
    });

    it("writes nothing on a sequence conflict, a lost lease, a bad shape or a duplicate id", async () => {
      const { run, bystander, request } = await busyRun();
      const ids = [run.runId, bystander.runId];
      const seq = request().expectedSeq;
      await expectNothingWritten(
        ids,
        () => t.world.events.append(request({ expectedSeq: seq - 1 })),
        SequenceConflictError,
      );
      await expectNothingWritten(
        ids,
        () => t.world.events.append(request({ owner: "owner-b" })),
        LeaseLostError,
      );
      await expectNothingWritten(
        ids,
        () =>
          t.world.events.append(
            request({ events: [{ type: "run_cancelled", data: {} }, stepStarted("step_y")] }),
          ),
        ConflictError,
      );
      await expectNothingWritten(
        ids,
        () =>
          t.world.events.append(
            request({ events: [{ type: "wait_created", data: { waitId: "wait_1", resumeAt: 1 } }] }),
          ),
        ConflictError,
      );
      await expectNothingWritten(
        ids,
        () =>
          t.world.events.append(request({ events: [hookCreated(`hook_old_${run.runId}`, "fresh-token")] })),
        ConflictError,
      );
    });

    it("writes nothing when the run has finished", async () => {
      const { run, bystander, request } = await busyRun();
      const finishing = request();
      await t.world.events.append({
        runId: run.runId,
        expectedSeq: finishing.expectedSeq,
        owner: "owner-a",
        events: [{ type: "run_cancelled", data: {} }],
      });
      await expectNothingWritten(
        [run.runId, bystander.runId],
        () => t.world.events.append({ ...finishing, expectedSeq: finishing.expectedSeq + 1, events: [] }),
        RunFinishedError,
      );
    });

    it("of 20 concurrent appends with the same expectedSeq exactly one wins", async () => {
      const run = await startedRun(t.world);
      const attempts = Array.from({ length: 20 }, (_, index) =>
        t.world.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted(`step_${index}`)] }),
      );
      const results = await Promise.allSettled(attempts);
      const winners = results.flatMap((result, index) => (result.status === "fulfilled" ? [index] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === "rejected") expect(SequenceConflictError.is(result.reason)).toBe(true);
      }
      const events = await t.world.events.list(run.runId);
      expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
      expect(events[2]?.data).toMatchObject({ stepId: `step_${winners[0]}` });
      expect((await t.world.steps.list(run.runId)).map((step) => step.stepId)).toEqual([
        `step_${winners[0]}`,
      ]);
    });

    it("of concurrent appends claiming the same hook token exactly one wins", async () => {
      const runs = await Promise.all(Array.from({ length: 8 }, () => startedRun(t.world)));
      const results = await Promise.allSettled(
        runs.map((run, index) =>
          t.world.events.append({
            runId: run.runId,
            expectedSeq: 2,
            events: [hookCreated(`hook_race_${index}`, "race-token")],
          }),
        ),
      );
      const winners = results.filter((result) => result.status === "fulfilled");
      expect(winners).toHaveLength(1);
      const holder = await t.world.hooks.getByToken("race-token");
      for (const [index, result] of results.entries()) {
        if (result.status === "fulfilled") expect(holder.runId).toBe(runs[index]?.runId);
        else {
          expect(HookTokenConflictError.is(result.reason)).toBe(true);
          expect((result.reason as HookTokenConflictError).heldByRunId).toBe(holder.runId);
          expect((await t.world.runs.get(runs[index]?.runId ?? "")).seq).toBe(2);
        }
      }
    });

    it("a failing append does not disturb appends to other runs issued at the same moment", async () => {
      const [a, b, c, holder] = await Promise.all(Array.from({ length: 4 }, () => startedRun(t.world)));
      if (!a || !b || !c || !holder) throw new Error("unreachable");
      await appendNext(t.world, holder.runId, [hookCreated("hook_holder", "held")]);
      const before = await snapshot(t.world, [b.runId]);
      const results = await Promise.allSettled([
        t.world.events.append({ runId: a.runId, expectedSeq: 2, events: [stepStarted("s")] }),
        t.world.events.append({
          runId: b.runId,
          expectedSeq: 9,
          events: [stepStarted("s")],
          enqueue: [{ runId: b.runId, kind: "k" }],
        }),
        t.world.events.append({
          runId: b.runId,
          expectedSeq: 2,
          events: [stepStarted("s"), hookCreated("hook_b", "held")],
          enqueue: [{ runId: b.runId, kind: "k" }],
        }),
        t.world.events.append({ runId: c.runId, expectedSeq: 2, events: [stepStarted("s")] }),
      ]);
      expect(results.map((result) => result.status)).toEqual([
        "fulfilled",
        "rejected",
        "rejected",
        "fulfilled",
      ]);
      expect((await t.world.events.list(a.runId)).map((event) => event.seq)).toEqual([1, 2, 3]);
      expect((await t.world.events.list(c.runId)).map((event) => event.seq)).toEqual([1, 2, 3]);
      expect(await snapshot(t.world, [b.runId])).toEqual(before);
    });

    it("many runs appending step after step concurrently keep gap-free logs", async () => {
      const runs = await Promise.all(Array.from({ length: 20 }, () => startedRun(t.world)));
      await Promise.all(
        runs.map(async (run) => {
          let seq = run.seq;
          for (let step = 0; step < 10; step++) {
            const result = await t.world.events.append({
              runId: run.runId,
              expectedSeq: seq,
              events: [
                stepStarted(`step_${step}`),
                { type: "step_completed", data: { stepId: `step_${step}`, attempt: 1 } },
              ],
            });
            seq = result.seq;
          }
        }),
      );
      for (const run of runs) {
        const events = await t.world.events.list(run.runId);
        expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 22 }, (_, index) => index + 1));
        expect((await t.world.runs.get(run.runId)).seq).toBe(22);
        const steps = await t.world.steps.list(run.runId);
        expect(steps.map((step) => step.stepId)).toEqual(
          Array.from({ length: 10 }, (_, index) => `step_${index}`),
        );
        expect(steps.every((step) => step.status === "completed")).toBe(true);
      }
    });
  });
}
