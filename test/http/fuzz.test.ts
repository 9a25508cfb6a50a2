/**
 * The fuzz test: thousands of seeded random requests (methods, paths with traversal attempts,
 * headers, content types, tokens, bodies huge and malformed, raw socket framing) against the
 * handler served over real HTTP on the local SQLite World. Every answer must be a well-formed
 * refusal or a read, never a 5xx, never data without the secret. Afterwards every run that existed
 * before (completed, failed, cancelled, sleeping, waiting on a hook or a webhook) must be exactly
 * as it was — status, event log, steps, waits, hooks, streams, inbox and queue — and its hooks must
 * still work. Reproduce with STEPWISE_FUZZ_SEED=<seed> (and STEPWISE_FUZZ_REQUESTS=<n>).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { METHODS } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configure, getRun, listWorkflows, type Run, shutdown, start } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler } from "../../src/http/index.ts";
import { TERMINAL_RUN_STATUSES, type World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { type FuzzRequest, generate, type Targets } from "./fuzz/generate.ts";
import { randomFor } from "./fuzz/random.ts";
import { type Outcome, sendFetch, sendRaw } from "./fuzz/send.ts";
import { call, SECRET, type Served, serve, snapshotWorld, until } from "./helpers.ts";
import { wf } from "./workflows.ts";

const SEED = process.env.STEPWISE_FUZZ_SEED ?? "stepwise-http-fuzz-1";
const REQUESTS = Number(process.env.STEPWISE_FUZZ_REQUESTS ?? 5000);
const CONCURRENCY = 16;

let dataDir: string;
let world: World;
let served: Served;
const unexpected: unknown[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-http-fuzz-"));
  world = createLocalWorld({ dataDir });
  configure({ world, worker: { holdMs: 0 } });
  const handler = createHandler({
    secret: SECRET,
    maxBodyBytes: 64 * 1024,
    maxWaitMs: 200,
    cancelWaitMs: 500,
    onError: (error) => unexpected.push(error),
  });
  served = await serve(toNodeListener(handler));
});
afterAll(async () => {
  await served.close();
  await shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Resolves once the run has ended, or is suspended (unleased) waiting on a sleep or a hook. */
async function settled(run: Run): Promise<void> {
  await until(
    async () => ({
      record: await world.runs.get(run.runId),
      waits: await world.waits.list({ runId: run.runId, status: "waiting" }),
      hooks: await world.hooks.list({ runId: run.runId, status: "active" }),
    }),
    ({ record, waits, hooks }) =>
      TERMINAL_RUN_STATUSES.has(record.status) ||
      (record.lease === undefined && !record.wakePending && waits.length + hooks.length > 0),
  );
}

/** Everything about one run that must not change, queue messages included. */
async function runState(runId: string): Promise<string> {
  const queue = (await world.queue.list(runId)).map(({ lease: _l, deliveries: _d, ...message }) => message);
  return JSON.stringify({ queue });
}

/** Checks one answer; returns what is wrong with it, if anything. */
function violation(request: FuzzRequest, outcome: Outcome, runIds: string[]): string | undefined {
  if (outcome.status === 0) {
    const harmless = ["client-invalid-url", "client-refused"];
    if (request.raw !== undefined && (outcome.failure === "raw-closed" || outcome.failure === "raw-timeout"))
      return undefined;
    return harmless.includes(outcome.failure ?? "") ? undefined : `no answer (${outcome.failure})`;
  }
  if (outcome.status >= 500) return `status ${outcome.status}: ${outcome.body.slice(0, 300)}`;
  if (!request.authorized && outcome.status < 300) return `status ${outcome.status} without the secret`;
  if (!request.authorized && runIds.some((id) => outcome.body.includes(id)))
    return "a run id leaked without the secret";
  // Node's HTTP parser answers methods it does not know with a bare 400 before any handler runs.
  if (!METHODS.includes(request.method) && request.raw === undefined) {
    return outcome.status === 400 && outcome.body === ""
      ? undefined
      : `unknown method answered ${outcome.status}`;
  }
  if (request.raw === undefined && outcome.status >= 400 && request.method !== "HEAD") {
    try {
      const error = (JSON.parse(outcome.body) as { error: { code: unknown; message: unknown } }).error;
      if (typeof error.code !== "string" || typeof error.message !== "string")
        return "error body without code and message";
    } catch {
      return `error body is not JSON: ${outcome.body.slice(0, 200)}`;
    }
  }
  return undefined;
}

it("survives thousands of random requests with every existing run intact", { timeout: 300_000 }, async () => {
  // Runs in every state, before the fuzzing.
  const runs: Run[] = [
    await start(wf.greeter, ["before"]),
    await start(wf.failer, []),
    await start(wf.producer, ["fuzz-stream", 5, []]),
    await start(wf.sleeper, ["1h"]),
    await start(wf.sleeper, ["2h"]),
    await start(wf.approval, ["fuzz-hook-1"]),
    await start(wf.approval, ["fuzz-hook-2"]),
    await start(wf.webhookDefault, []),
  ];
  const cancelled = await start(wf.sleeper, ["3h"]);
  await settled(cancelled);
  await cancelled.cancel();
  runs.push(cancelled);
  for (const run of runs) await settled(run);
  const runIds = runs.map((run) => run.runId);
  const before = await snapshotWorld(world);
  const queuesBefore = await Promise.all(runIds.map(runState));
  const statuses = await Promise.all(runs.map((run) => run.status));
  expect(new Set(statuses)).toEqual(new Set(["completed", "failed", "cancelled", "running"]));

  const targets: Targets = {
    secret: SECRET,
    runIds,
    hookTokens: ["fuzz-hook-1", "fuzz-hook-2"],
    workflowNames: listWorkflows(),
  };
  const { hostname, port } = new URL(served.origin);
  const histogram = new Map<string, number>();
  const failures: string[] = [];
  let next = 0;
  let raw = 0;
  let authorized = 0;
  const worker = async (): Promise<void> => {
    while (next < REQUESTS && failures.length < 20) {
      const index = next++;
      const request = generate(randomFor(SEED, index), targets);
      if (request.raw !== undefined) raw += 1;
      if (request.authorized) authorized += 1;
      const outcome = request.raw
        ? await sendRaw(hostname, Number(port), request.raw)
        : await sendFetch(served.origin, request);
      const key = outcome.status === 0 ? (outcome.failure ?? "none") : String(outcome.status);
      histogram.set(key, (histogram.get(key) ?? 0) + 1);
      const problem = violation(request, outcome, runIds);
      if (problem !== undefined) {
        failures.push(
          `#${index} ${request.method} ${request.target.slice(0, 200)}: ${problem} (STEPWISE_FUZZ_SEED=${SEED})`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  expect(failures).toEqual([]);
  expect(unexpected).toEqual([]);

  // Let anything the requests set in motion settle, then compare.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await snapshotWorld(world);
  expect((await world.runs.list({ limit: 1000 })).items).toHaveLength(runs.length);
  expect(after).toBe(before);
  expect(await Promise.all(runIds.map(runState))).toEqual(queuesBefore);
  let events = 0;
  for (const runId of runIds) events += (await world.events.list(runId)).length;

  // The hooks and the webhook still work.
  for (const [index, token] of targets.hookTokens.entries()) {
    const response = await call(served.origin, `/stepwise/hooks/${token}`, {
      method: "POST",
      json: { payload: { after: token } },
    });
    expect(response.status).toBe(202);
    expect(await getRun(runIds[5 + index] ?? "").returnValue).toEqual({ received: { after: token } });
  }
  const [webhook] = await world.hooks.list({ runId: runIds[7], status: "active" });
  const delivered = await call(served.origin, `/stepwise/webhooks/${webhook?.token}`, {
    method: "POST",
    auth: false,
    body: "late",
  });
  expect(delivered.status).toBe(202);
  expect(await getRun(runIds[7] ?? "").returnValue).toMatchObject({ body: "late" });
  for (const runId of runIds.slice(3, 5)) expect((await world.runs.get(runId)).status).toBe("running");

  const sent = [...histogram.values()].reduce((a, b) => a + b, 0);
  const summary = [...histogram.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(" ");
  console.log(
    `[fuzz] seed=${SEED} requests=${sent} (authorized ${authorized}, raw ${raw}) answers ${summary}\n` +
      `[fuzz] checked ${runIds.length} runs (${statuses.join(", ")}): ${events} events, steps, waits, hooks, streams, inbox and queue unchanged; ` +
      `${targets.hookTokens.length} hooks and 1 webhook resumed afterwards`,
  );
  expect(sent).toBe(REQUESTS);
});
