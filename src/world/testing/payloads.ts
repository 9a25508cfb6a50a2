/**
 * Conformance: rewriting payload bytes in place (`World.payloads.rewrite`, what `npx stepwise
 * rekey` uses). Every slot that holds payloads (events, inbox items, stream chunks, a webhook's
 * static response) can be
 * rewritten; every read shows the new bytes (the run's input and output, steps); nothing else
 * moves (rewriting back gives the exact snapshot from before); a rewrite is a compare-and-swap
 * (stale or missing slots are skipped, so it is idempotent); a change of length is refused with
 * nothing written; finished runs are rewritten too.
 */
import { describe, expect, it } from "vitest";
import { ConflictError, RunNotFoundError } from "../../errors/world.ts";
import type { PayloadRewrite } from "../types.ts";
import {
  appendNext,
  createRun,
  expectBytes,
  expectReject,
  snapshot,
  startedRun,
  stepStarted,
  utf8,
} from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

/** The same length as `bytes`, every byte different. */
const flipped = (bytes: Uint8Array): Uint8Array => bytes.map((b) => b ^ 0xff);

/** The rewrites that undo `rewrites`. */
const undo = (rewrites: readonly PayloadRewrite[]): PayloadRewrite[] =>
  rewrites.map(({ slot, expected, bytes }) => ({ slot, expected: bytes, bytes: expected }));

export function describePayloads(t: WorldContext): void {
  describe("payloads.rewrite", () => {
    /** A run with payloads in every slot kind: input, step args and result, a failure, inbox, stream. */
    async function fullRun() {
      const input = utf8('["input"]');
      const run = await startedRun(t.world, { input });
      const args = utf8("step-args");
      const result = utf8("step-result");
      const firstError = utf8("same error");
      const lastError = utf8("same error");
      await appendNext(t.world, run.runId, [stepStarted("step_a", 1, args)]);
      await appendNext(t.world, run.runId, [
        { type: "step_completed", data: { stepId: "step_a", attempt: 1 }, payload: result },
      ]);
      await appendNext(t.world, run.runId, [stepStarted("step_b", 1)]);
      await appendNext(t.world, run.runId, [
        {
          type: "step_retrying",
          data: { stepId: "step_b", attempt: 1, retryAt: t.now() },
          payload: firstError,
        },
      ]);
      await appendNext(t.world, run.runId, [
        { type: "step_failed", data: { stepId: "step_b", attempt: 2, fatal: false }, payload: lastError },
      ]);
      const item = await t.world.inbox.put({
        runId: run.runId,
        kind: "hook_payload",
        hookId: "hook_x",
        payload: utf8("hook-payload"),
      });
      await t.world.streams.write(run.runId, "out", [utf8("chunk-0"), utf8("chunk-1")]);
      const events = await t.world.events.list(run.runId);
      const seqOf = (type: string) => events.findIndex((event) => event.type === type) + 1;
      return { run, input, args, result, firstError, lastError, item, seqOf };
    }

    it("rewrites events, inbox items and stream chunks; every read shows the new bytes", async () => {
      const { run, input, args, result, lastError, item, seqOf } = await fullRun();
      const chunk1 = utf8("chunk-1");
      const rewrites: PayloadRewrite[] = [
        { slot: { kind: "event", seq: 1 }, expected: input, bytes: flipped(input) },
        { slot: { kind: "event", seq: seqOf("step_started") }, expected: args, bytes: flipped(args) },
        { slot: { kind: "event", seq: seqOf("step_completed") }, expected: result, bytes: flipped(result) },
        {
          slot: { kind: "event", seq: seqOf("step_failed") },
          expected: lastError,
          bytes: flipped(lastError),
        },
        {
          slot: { kind: "inbox", itemId: item.itemId },
          expected: utf8("hook-payload"),
          bytes: flipped(utf8("hook-payload")),
        },
        { slot: { kind: "stream", name: "out", index: 1 }, expected: chunk1, bytes: flipped(chunk1) },
      ];
      const before = await snapshot(t.world, [run.runId]);
      expect(await t.world.payloads.rewrite(run.runId, rewrites)).toEqual({ rewritten: 6, skipped: 0 });

      expectBytes((await t.world.runs.get(run.runId)).input, flipped(input));
      expectBytes((await t.world.events.list(run.runId))[0]?.payload, flipped(input));
      const stepA = await t.world.steps.get(run.runId, "step_a");
      expectBytes(stepA.input, flipped(args));
      expectBytes(stepA.output, flipped(result));
      expectBytes((await t.world.steps.get(run.runId, "step_b")).error, flipped(lastError));
      expectBytes((await t.world.inbox.list(run.runId))[0]?.payload, flipped(utf8("hook-payload")));
      const { chunks } = await t.world.streams.read(run.runId, "out");
      expectBytes(chunks[0]?.data, utf8("chunk-0"));
      expectBytes(chunks[1]?.data, flipped(chunk1));

      // Nothing but the bytes moved: rewriting back gives exactly what was there before.
      expect(await t.world.payloads.rewrite(run.runId, undo(rewrites))).toEqual({ rewritten: 6, skipped: 0 });
      expect(await snapshot(t.world, [run.runId])).toEqual(before);
    });

    it("an earlier failure of a step is rewritten without changing the error the step shows", async () => {
      const { run, firstError, lastError, seqOf } = await fullRun();
      const retrying = seqOf("step_retrying");
      await t.world.payloads.rewrite(run.runId, [
        { slot: { kind: "event", seq: retrying }, expected: firstError, bytes: flipped(firstError) },
      ]);
      expectBytes((await t.world.events.list(run.runId))[retrying - 1]?.payload, flipped(firstError));
      expectBytes((await t.world.steps.get(run.runId, "step_b")).error, lastError);
    });

    it("is a compare-and-swap: stale bytes and missing slots are skipped, so repeating it changes nothing", async () => {
      const { run, input, item } = await fullRun();
      const rewrite: PayloadRewrite = {
        slot: { kind: "event", seq: 1 },
        expected: input,
        bytes: flipped(input),
      };
      expect(await t.world.payloads.rewrite(run.runId, [rewrite])).toEqual({ rewritten: 1, skipped: 0 });
      const after = await snapshot(t.world, [run.runId]);
      const missing: PayloadRewrite[] = [
        rewrite, // already done: the slot no longer holds `expected`
        { slot: { kind: "event", seq: 999 }, expected: input, bytes: flipped(input) },
        { slot: { kind: "event", seq: 2 }, expected: input, bytes: flipped(input) }, // run_started: no payload
        { slot: { kind: "inbox", itemId: "inbox_missing" }, expected: input, bytes: flipped(input) },
        { slot: { kind: "stream", name: "out", index: 7 }, expected: input, bytes: flipped(input) },
        { slot: { kind: "stream", name: "nope", index: 0 }, expected: input, bytes: flipped(input) },
      ];
      expect(await t.world.payloads.rewrite(run.runId, missing)).toEqual({ rewritten: 0, skipped: 6 });
      expect(await snapshot(t.world, [run.runId])).toEqual(after);

      // An inbox item taken by an append meanwhile is skipped, not resurrected.
      await appendNext(t.world, run.runId, [], { consumeInbox: [item.itemId] });
      const taken: PayloadRewrite = {
        slot: { kind: "inbox", itemId: item.itemId },
        expected: utf8("hook-payload"),
        bytes: flipped(utf8("hook-payload")),
      };
      expect(await t.world.payloads.rewrite(run.runId, [taken])).toEqual({ rewritten: 0, skipped: 1 });
      expect(await t.world.inbox.list(run.runId)).toEqual([]);
    });

    it("refuses a change of length with ConflictError and writes nothing of the batch", async () => {
      const { run, input, args, seqOf } = await fullRun();
      const before = await snapshot(t.world, [run.runId]);
      const error = await expectReject(
        t.world.payloads.rewrite(run.runId, [
          { slot: { kind: "event", seq: 1 }, expected: input, bytes: flipped(input) },
          {
            slot: { kind: "event", seq: seqOf("step_started") },
            expected: args,
            bytes: utf8("longer than the args"),
          },
        ]),
        ConflictError,
        true,
      );
      expect(error.message).toContain("length");
      expect(await snapshot(t.world, [run.runId])).toEqual(before);
    });

    it("rewrites finished runs, and keeps their output readable", async () => {
      const run = await startedRun(t.world);
      const output = utf8('{"done":true}');
      await appendNext(t.world, run.runId, [{ type: "run_completed", data: {}, payload: output }]);
      const finished = await t.world.runs.get(run.runId);
      expect(
        await t.world.payloads.rewrite(run.runId, [
          { slot: { kind: "event", seq: finished.seq }, expected: output, bytes: flipped(output) },
        ]),
      ).toEqual({ rewritten: 1, skipped: 0 });
      const after = await t.world.runs.get(run.runId);
      expectBytes(after.output, flipped(output));
      expect({ ...after, output: undefined }).toEqual({ ...finished, output: undefined });
    });

    it("rewrites a webhook's static response in its hook record and its hook_created event", async () => {
      const run = await startedRun(t.world);
      const sealed = utf8("sealed-response");
      const meta = { respond: "static", sealed: Buffer.from(sealed).toString("base64") };
      await appendNext(t.world, run.runId, [
        { type: "hook_created", data: { hookId: "hook_web", token: "tok-web", kind: "webhook", meta } },
      ]);
      const slot = { kind: "hookResponse" as const, hookId: "hook_web" };
      const next = flipped(sealed);
      // Stale bytes: skipped, nothing changed.
      expect(await t.world.payloads.rewrite(run.runId, [{ slot, expected: next, bytes: sealed }])).toEqual({
        rewritten: 0,
        skipped: 1,
      });
      expect(await t.world.payloads.rewrite(run.runId, [{ slot, expected: sealed, bytes: next }])).toEqual({
        rewritten: 1,
        skipped: 0,
      });
      const shown = { respond: "static", sealed: Buffer.from(next).toString("base64") };
      expect((await t.world.hooks.get("hook_web")).meta).toEqual(shown);
      expect((await t.world.hooks.getByToken("tok-web")).meta).toEqual(shown);
      const created = (await t.world.events.list(run.runId)).find((event) => event.type === "hook_created");
      expect(created?.data).toMatchObject({ hookId: "hook_web", meta: shown });
      // Another run's hook is not this run's slot.
      const other = await startedRun(t.world);
      expect(await t.world.payloads.rewrite(other.runId, [{ slot, expected: next, bytes: sealed }])).toEqual({
        rewritten: 0,
        skipped: 1,
      });
    });

    it("rewrites the console output an event carries (step logs), compare-and-swap, leaving the rest", async () => {
      const run = await startedRun(t.world);
      const output = utf8("sealed-output");
      const workflow = utf8("sealed-workflow");
      const sealed = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
      const appended = await appendNext(t.world, run.runId, [
        { type: "step_started", data: { stepId: "step_l", stepName: "s", attempt: 1 } },
        {
          type: "step_completed",
          data: {
            stepId: "step_l",
            attempt: 1,
            logs: { sealed: sealed(output), lines: 3, truncated: true },
            workflowLogs: { sealed: sealed(workflow), lines: 1, id: "log_1" },
          },
          payload: utf8("result"),
        },
      ]);
      const seq = appended.seq;
      const logsSlot = { kind: "eventLogs" as const, seq, field: "logs" as const };
      const workflowSlot = { kind: "eventLogs" as const, seq, field: "workflowLogs" as const };
      const [nextOutput, nextWorkflow] = [flipped(output), flipped(workflow)];
      // Stale bytes, or the other field's: skipped, nothing changed.
      expect(
        await t.world.payloads.rewrite(run.runId, [
          { slot: logsSlot, expected: nextOutput, bytes: output },
          { slot: workflowSlot, expected: output, bytes: nextOutput },
        ]),
      ).toEqual({ rewritten: 0, skipped: 2 });
      expect(
        await t.world.payloads.rewrite(run.runId, [
          { slot: logsSlot, expected: output, bytes: nextOutput },
          { slot: workflowSlot, expected: workflow, bytes: nextWorkflow },
        ]),
      ).toEqual({ rewritten: 2, skipped: 0 });
      const event = (await t.world.events.list(run.runId)).find((e) => e.seq === seq);
      expect(event?.data).toEqual({
        stepId: "step_l",
        attempt: 1,
        logs: { sealed: sealed(nextOutput), lines: 3, truncated: true },
        workflowLogs: { sealed: sealed(nextWorkflow), lines: 1, id: "log_1" },
      });
      expectBytes(event?.payload, utf8("result"));
      // Another run's event at that seq is not this run's slot.
      const other = await startedRun(t.world);
      expect(
        await t.world.payloads.rewrite(other.runId, [
          { slot: logsSlot, expected: nextOutput, bytes: output },
        ]),
      ).toEqual({ rewritten: 0, skipped: 1 });
    });

    it("throws RunNotFoundError for an unknown run; an empty batch does nothing", async () => {
      await expectReject(t.world.payloads.rewrite("wrun_missing", []), RunNotFoundError, true);
      const run = await createRun(t.world);
      expect(await t.world.payloads.rewrite(run.runId, [])).toEqual({ rewritten: 0, skipped: 0 });
    });
  });
}
