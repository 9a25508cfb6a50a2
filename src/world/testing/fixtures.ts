/**
 * Helpers the conformance tests share: byte buffers and their comparison, error assertions by
 * error code (so they hold across realms and Worlds), runs in a known state, appends that read the
 * current sequence number, and a snapshot of everything a run owns, for "nothing was written" checks.
 */
import { expect } from "vitest";
import { newId } from "../../util/ids.ts";
import type { NewEvent } from "../events.ts";
import type {
  AppendedRun,
  AppendRequest,
  AppendResult,
  CreateRunInput,
  RunRecord,
  World,
  WorldNotification,
} from "../types.ts";

export const WORKFLOW = "conformance/workflow";

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Every byte value, then some text: a payload that catches encodings that are not byte-exact. */
export function allBytes(): Uint8Array {
  const out = new Uint8Array(256 + 16);
  for (let i = 0; i < 256; i++) out[i] = i;
  out.set(utf8("\u0000é😀\r\n\u00ff"), 256);
  return out;
}

export function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual, "expected bytes, got undefined").toBeInstanceOf(Uint8Array);
  const a = actual as Uint8Array;
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(expected))) return;
  const show = (bytes: Uint8Array) =>
    `${bytes.byteLength} bytes [${Array.from(bytes.subarray(0, 64)).join(",")}${bytes.byteLength > 64 ? ",..." : ""}]`;
  expect.fail(`bytes differ: got ${show(a)}, want ${show(expected)}`);
}

export interface ErrorKind {
  readonly code: string;
  is(value: unknown): boolean;
}

/**
 * Awaits a rejection of the given kind (checked with the class's `is()`, subclasses included; pass
 * `exact` to require exactly that code) and returns the error for further checks.
 */
export async function expectReject(
  promise: Promise<unknown>,
  kind: ErrorKind,
  exact = false,
): Promise<Error & Record<string, unknown>> {
  let outcome: { ok: true } | { ok: false; error: unknown };
  try {
    await promise;
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`Expected a rejection with ${kind.code}, but the call succeeded.`);
  const error = outcome.error as Error & Record<string, unknown>;
  if (!kind.is(error) || (exact && error.code !== kind.code)) {
    throw new Error(`Expected ${kind.code}, got ${String(error?.code)}: ${String(error?.message ?? error)}`);
  }
  return error;
}

export function runInput(overrides: Partial<CreateRunInput> = {}): CreateRunInput {
  return {
    runId: newId("wrun"),
    workflowName: WORKFLOW,
    specVersion: 1,
    seed: "0123456789abcdef0123456789abcdef",
    encrypted: false,
    input: utf8('["order-1"]'),
    ...overrides,
  };
}

export function createRun(world: World, overrides: Partial<CreateRunInput> = {}): Promise<RunRecord> {
  return world.runs.create(runInput(overrides));
}

type AppendExtras = Omit<AppendRequest, "runId" | "expectedSeq" | "events">;

/** Appends after the run's current last event. */
export async function appendNext(
  world: World,
  runId: string,
  events: NewEvent[],
  extras: AppendExtras = {},
): Promise<AppendResult> {
  const run = await world.runs.get(runId);
  return world.events.append({ runId, expectedSeq: run.seq, events, ...extras });
}

/** What an append reports of a run in this state (`AppendedRun`): compare `result.run` with it. */
export function appendedOf(run: RunRecord): AppendedRun {
  return { runId: run.runId, status: run.status, seq: run.seq, payloadBytes: run.payloadBytes };
}

/** A run that a worker has started (status "running", seq 2). */
export async function startedRun(world: World, overrides: Partial<CreateRunInput> = {}): Promise<RunRecord> {
  const run = await createRun(world, overrides);
  await appendNext(world, run.runId, [{ type: "run_started", data: {} }]);
  return world.runs.get(run.runId);
}

export function stepStarted(stepId: string, attempt = 1, payload?: Uint8Array): NewEvent {
  const event: NewEvent = { type: "step_started", data: { stepId, stepName: "conformance/step", attempt } };
  if (payload !== undefined) event.payload = payload;
  return event;
}

export function hookCreated(hookId: string, token: string, kind: "hook" | "webhook" = "hook"): NewEvent {
  return { type: "hook_created", data: { hookId, token, kind } };
}

/** Everything the World holds for these runs, plus the World-wide hook list and queue horizon. */
export async function snapshot(world: World, runIds: readonly string[]): Promise<unknown> {
  const runs = [];
  for (const runId of runIds) {
    const queue = await world.queue.list(runId);
    queue.sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
    runs.push({
      run: await world.runs.get(runId),
      events: await world.events.list(runId),
      steps: await world.steps.list(runId),
      waits: await world.waits.list({ runId }),
      hooks: await world.hooks.list({ runId }),
      queue,
      inbox: await world.inbox.list(runId),
      streams: await world.streams.list(runId),
    });
  }
  return { runs, hooks: await world.hooks.list(), nextAvailableAt: await world.queue.nextAvailableAt() };
}

/** Resolves with the first notification that `matches`, or rejects after `timeoutMs`. */
export function nextNotification(
  world: World,
  matches: (notification: WorldNotification) => boolean,
  timeoutMs = 3000,
): { promise: Promise<WorldNotification>; cancel(): void } {
  let unsubscribe = (): void => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<WorldNotification>((resolve, reject) => {
    unsubscribe = world.subscribe((notification) => {
      if (!matches(notification)) return;
      cancel();
      resolve(notification);
    });
    timer = setTimeout(() => {
      cancel();
      reject(new Error(`No matching World notification within ${timeoutMs} ms.`));
    }, timeoutMs);
  });
  function cancel(): void {
    unsubscribe();
    if (timer !== undefined) clearTimeout(timer);
  }
  return { promise, cancel };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
