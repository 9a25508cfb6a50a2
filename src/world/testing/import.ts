/**
 * Conformance: `runs.import`, how runs move between Worlds (`npx stepwise export` / `import`). The
 * runs are made in a memory World (the reference) through ordinary appends — steps, retries, a
 * hook, a sleep, an event wait, inbox items, a stream, a run that completed, one restarted — read
 * out, and imported into the World under test, which must then hold the same run: the log byte
 * for byte with its sequence numbers and times, the same projections (status, steps, hooks with
 * their tokens, waits), inbox, streams and byte count, and messages a worker can claim when due.
 * Importing again changes nothing; another run under the id, a token held by another run, or a
 * malformed log is refused with nothing written.
 */
import { describe, expect, it } from "vitest";
import { ConflictError, HookTokenConflictError, ImportConflictError } from "../../errors/world.ts";
import { createMemoryWorld } from "../../worlds/memory/index.ts";
import type { NewEvent } from "../events.ts";
import type { ImportRunInput, World } from "../types.ts";
import { expectReject, hookCreated, runInput, snapshot, stepStarted, utf8 } from "./fixtures.ts";

const LONG_OWNER = "conformance/import-owner";

import { SHORT, TICK, type WorldContext } from "./harness.ts";

/** Everything `runs.import` takes, read from `world` as the export does. */
async function readRun(world: World, runId: string): Promise<ImportRunInput> {
  const run = await world.runs.get(runId);
  const streams = [];
  for (const info of await world.streams.list(runId)) {
    const { chunks } = await world.streams.read(runId, info.name, { limit: 100_000 });
    streams.push({ name: info.name, closed: info.closed, chunks });
  }
  return {
    runId,
    workflowName: run.workflowName,
    specVersion: run.specVersion,
    seed: run.seed,
    encrypted: run.encrypted,
    events: await world.events.list(runId),
    inbox: await world.inbox.list(runId),
    streams,
    messages: (await world.queue.list(runId)).map((message) => ({
      kind: message.kind,
      availableAt: message.availableAt,
      ...(message.dedupeKey === undefined ? {} : { dedupeKey: message.dedupeKey }),
    })),
  };
}

/** What must be the same in both Worlds (not: when the import wrote it, message ids). */
async function comparable(world: World, runId: string): Promise<unknown> {
  const { runs } = (await snapshot(world, [runId])) as { runs: Record<string, unknown>[] };
  const [state] = runs as [Record<string, unknown>];
  const { updatedAt: _updated, ...run } = state.run as Record<string, unknown>;
  const queue = (state.queue as { kind: string; dedupeKey?: string; availableAt: number }[])
    .map((m) => ({ kind: m.kind, dedupeKey: m.dedupeKey, availableAt: m.availableAt }))
    .sort((a, b) => a.availableAt - b.availableAt || (a.kind < b.kind ? -1 : 1));
  const hooks = [...(state.hooks as { hookId: string }[])].sort((a, b) => (a.hookId < b.hookId ? -1 : 1));
  const chunks = [];
  for (const info of state.streams as { name: string }[])
    chunks.push((await world.streams.read(runId, info.name)).chunks);
  return { ...state, run, queue, hooks, chunks };
}

/** A memory World on a clock of its own, a minute behind the test's, with three runs made in it. */
async function sourceWorld(t: WorldContext) {
  let time = t.now() - 60_000;
  const world = createMemoryWorld({ now: () => time });
  const tick = (): void => {
    time += 7;
  };
  const append = async (runId: string, events: NewEvent[], extras = {}) => {
    tick();
    const run = await world.runs.get(runId);
    return world.events.append({ runId, expectedSeq: run.seq, events, ...extras });
  };
  const suffix = Math.random().toString(36).slice(2, 8);

  // A run in flight: steps, a retry, a hook with a payload waiting, a sleep, an event wait, a stream.
  const waiting = await world.runs.create(runInput({ bundleHash: "b".repeat(64) }));
  await append(waiting.runId, [{ type: "run_started", data: {} }]);
  await append(waiting.runId, [stepStarted("step_1", 1, utf8('["a"]'))]);
  await append(waiting.runId, [
    { type: "step_completed", data: { stepId: "step_1", attempt: 1 }, payload: utf8('"A"') },
    stepStarted("step_2", 1, utf8('["b"]')),
  ]);
  await append(
    waiting.runId,
    [
      {
        type: "step_retrying",
        data: { stepId: "step_2", attempt: 1, retryAt: time + 5_000 },
        payload: utf8('{"message":"try again"}'),
      },
      hookCreated(`hook_w_${suffix}`, `token-w-${suffix}`),
      { type: "wait_created", data: { waitId: "wait_1", resumeAt: time + 120_000 } },
      {
        type: "event_wait_created",
        data: { waitId: "wait_2", eventType: "paid", timeoutAt: time + 86_400_000 },
      },
    ],
    {
      enqueue: [
        {
          runId: waiting.runId,
          kind: "wake",
          dedupeKey: `wake:${waiting.runId}`,
          availableAt: time + 120_000,
        },
      ],
    },
  );
  tick();
  await world.inbox.put({
    runId: waiting.runId,
    kind: "hook_payload",
    hookId: `hook_w_${suffix}`,
    itemId: `inbox_h_${suffix}`,
    payload: utf8('{"ok":true}'),
  });
  tick();
  await world.inbox.put({
    runId: waiting.runId,
    kind: "event",
    eventType: "paid",
    itemId: `evt_${suffix}`,
    payload: utf8("12"),
  });
  tick();
  await world.streams.write(waiting.runId, "out", [utf8('"one"'), utf8('"two"')], { close: true });
  tick();
  await world.streams.write(waiting.runId, "open", [utf8('"three"')]);

  // A run that completed: its hook disposed, its sleep cancelled.
  const completed = await world.runs.create(runInput());
  await append(completed.runId, [{ type: "run_started", data: {} }]);
  await append(completed.runId, [
    hookCreated(`hook_c_${suffix}`, `token-c-${suffix}`),
    { type: "wait_created", data: { waitId: "wait_c", resumeAt: time + 1_000 } },
  ]);
  await append(completed.runId, [{ type: "run_completed", data: {}, payload: utf8('"done"') }]);

  // A run restarted after it failed, its hook kept: two generations in one log.
  const restarted = await world.runs.create(runInput());
  await append(restarted.runId, [
    { type: "run_started", data: {} },
    hookCreated(`hook_r_${suffix}`, `token-r-${suffix}`),
  ]);
  await append(restarted.runId, [{ type: "run_failed", data: {}, payload: utf8('"boom"') }]);
  await append(
    restarted.runId,
    [{ type: "run_restarted", data: { generation: 2, fromCall: 1, hooks: [`hook_r_${suffix}`] } }],
    { enqueue: [{ runId: restarted.runId, kind: "start" }] },
  );
  await append(restarted.runId, [{ type: "run_started", data: {} }]);

  // A run of format 4 moved to another version of its code (run_upgraded raised it to format 5).
  const upgraded = await world.runs.create(runInput({ specVersion: 4, bundleHash: "c".repeat(64) }));
  await append(upgraded.runId, [{ type: "run_started", data: {} }]);
  await append(upgraded.runId, [
    { type: "run_upgraded", data: { fromHash: "c".repeat(64), toHash: "d".repeat(64) } },
  ]);

  return { world, suffix, runIds: [waiting.runId, completed.runId, restarted.runId, upgraded.runId] };
}

export function describeImport(t: WorldContext): void {
  describe("import", () => {
    it("writes a run as another World stored it: its log, projections, inbox, streams, bytes and messages", async () => {
      const source = await sourceWorld(t);
      for (const runId of source.runIds) {
        const result = await t.world.runs.import(await readRun(source.world, runId));
        expect(result.imported).toBe(true);
        expect(result.run.lease).toBeUndefined();
        expect(result.run.wakePending).toBe(false);
        expect(await comparable(t.world, runId)).toEqual(await comparable(source.world, runId));
      }
      const [waiting, completed, restarted, upgraded] = source.runIds as [string, string, string, string];
      expect((await t.world.runs.get(waiting)).status).toBe("running");
      expect(await t.world.runs.get(upgraded)).toMatchObject({ specVersion: 5, bundleHash: "d".repeat(64) });
      expect((await t.world.runs.get(completed)).status).toBe("completed");
      expect((await t.world.runs.get(restarted)).status).toBe("running");
      // The tokens work in the destination: the waiting run's and the restarted run's re-armed hook.
      expect((await t.world.hooks.getByToken(`token-w-${source.suffix}`)).runId).toBe(waiting);
      expect((await t.world.hooks.getByToken(`token-r-${source.suffix}`)).runId).toBe(restarted);
      // The completed run's token is free: a new run can take it.
      const other = await t.world.runs.create(runInput());
      await t.world.events.append({
        runId: other.runId,
        expectedSeq: 1,
        events: [hookCreated(`hook_o_${source.suffix}`, `token-c-${source.suffix}`)],
      });
    });

    it("importing a run that is there already changes nothing, even after the run moved on", async () => {
      const source = await sourceWorld(t);
      const [runId] = source.runIds as [string];
      const input = await readRun(source.world, runId);
      await t.world.runs.import(input);
      await t.world.events.append({
        runId,
        expectedSeq: input.events.length,
        events: [{ type: "wait_completed", data: { waitId: "wait_1" } }],
      });
      const before = await snapshot(t.world, [runId]);
      const again = await t.world.runs.import(input);
      expect(again.imported).toBe(false);
      expect(again.run.seq).toBe(input.events.length + 1);
      expect(await snapshot(t.world, [runId])).toEqual(before);
    });

    it("refuses a different run under the same id (another workflow, another seed), writing nothing", async () => {
      const source = await sourceWorld(t);
      const [runId] = source.runIds as [string];
      const input = await readRun(source.world, runId);
      await t.world.runs.create(runInput({ runId, seed: "another-seed-another-seed-000000" }));
      const before = await snapshot(t.world, [runId]);
      const error = await expectReject(t.world.runs.import(input), ImportConflictError, true);
      expect(error.message).toContain(runId);
      expect(await snapshot(t.world, [runId])).toEqual(before);

      const [, completed] = source.runIds as [string, string];
      await t.world.runs.create(runInput({ runId: completed, workflowName: "conformance/other" }));
      await expectReject(
        t.world.runs.import(await readRun(source.world, completed)),
        ImportConflictError,
        true,
      );
    });

    it("refuses a run whose hook token another run holds here, writing nothing of it", async () => {
      const source = await sourceWorld(t);
      const [runId] = source.runIds as [string];
      const holder = await t.world.runs.create(runInput());
      await t.world.events.append({
        runId: holder.runId,
        expectedSeq: 1,
        events: [hookCreated(`hook_x_${source.suffix}`, `token-w-${source.suffix}`)],
      });
      const hooksBefore = await t.world.hooks.list();
      const error = await expectReject(
        t.world.runs.import(await readRun(source.world, runId)),
        HookTokenConflictError,
        true,
      );
      expect(error.message).toContain(holder.runId);
      expect((await t.world.runs.list()).items.map((run) => run.runId)).toEqual([holder.runId]);
      expect(await t.world.hooks.list()).toEqual(hooksBefore);
      expect((await t.world.hooks.getByToken(`token-w-${source.suffix}`)).runId).toBe(holder.runId);
      expect(await t.world.queue.nextAvailableAt()).toBeDefined(); // the holder's start message, nothing more
      expect(await t.world.queue.list(runId).catch(() => [])).toEqual([]);
    });

    it("refuses a malformed log (a gap, no run_created first), writing nothing", async () => {
      const source = await sourceWorld(t);
      const [runId] = source.runIds as [string];
      const input = await readRun(source.world, runId);
      await expectReject(
        t.world.runs.import({ ...input, events: input.events.filter((e) => e.seq !== 3) }),
        ConflictError,
      );
      await expectReject(t.world.runs.import({ ...input, events: input.events.slice(1) }), ConflictError);
      await expectReject(t.world.runs.import({ ...input, seed: "x".repeat(32) }), ConflictError);
      expect((await t.world.runs.list()).items).toEqual([]);
    });

    it("an imported run is picked up: its messages are claimed when due, and a hook payload wakes it", async () => {
      const source = await sourceWorld(t);
      const [runId] = source.runIds as [string];
      const input = await readRun(source.world, runId);
      const due = t.now() + SHORT;
      await t.world.runs.import({
        ...input,
        messages: [{ kind: "wake", dedupeKey: `wake:${runId}`, availableAt: due }],
      });
      expect(await t.world.queue.claim(LONG_OWNER, { limit: 10, leaseMs: 60_000 })).toEqual([]);
      await t.advance(SHORT + TICK);
      const [wake] = await t.world.queue.claim(LONG_OWNER, { limit: 10, leaseMs: 60_000 });
      expect(wake).toMatchObject({ runId, kind: "wake" });
      await t.world.queue.ack(LONG_OWNER, [wake?.messageId ?? ""]);
      const hook = await t.world.hooks.getByToken(`token-w-${source.suffix}`);
      await t.world.inbox.put({ runId, kind: "hook_payload", hookId: hook.hookId, payload: utf8("1") });
      const [look] = await t.world.queue.claim(LONG_OWNER, { limit: 10, leaseMs: 60_000 });
      expect(look).toMatchObject({ runId, kind: "inbox" });
    });
  });
}
