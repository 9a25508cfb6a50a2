/**
 * OpenTelemetry spans (docs/tracing.md), with the SDK's in-memory exporter, a real worker and a
 * real SQLite file: a run started inside a caller's span makes one trace — the `start` span under
 * the caller's, and under it a span per step attempt (a retried step has two, with their outcome
 * and retry delay; a failed one has status error and its exception), a span per sleep, event wait
 * and hook wait with the times the log recorded, and the run's span from creation to end. A user's
 * span inside a step nests under the attempt's span (the attempt's span is the active context).
 * Across processes (a worker killed mid-run): test/e2e/tracing.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/client.ts";
import { FatalError, getStepMetadata, RetryableError } from "../../src/index.ts";
import { Worker } from "../../src/runtime/worker.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { until } from "../helpers/every-world.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

async function prepare(order: string): Promise<string> {
  // The user's own span, inside the step: it must nest under the attempt's span.
  return await trace.getTracer("user-code").startActiveSpan("user work", async (span: Span) => {
    span.setAttribute("order", order);
    span.end();
    return `prepared ${order}`;
  });
}

const flaky = Object.assign(
  async (order: string) => {
    if (getStepMetadata().attempt === 1) throw new RetryableError("busy, try again", { retryAfter: 250 });
    return `charged ${order}`;
  },
  { retries: { delay: 40 } },
);

async function refuse(order: string): Promise<string> {
  throw new FatalError(`card declined for ${order}`);
}

const wf = defineWorkflows("test/tracing.ts", {
  steps: { prepare, flaky, refuse },
  workflows: {
    order: ({ steps, api }) =>
      async function order(id: string) {
        const prepared = await steps.prepare(id);
        const charged = await steps.flaky(id);
        let refused = "";
        try {
          await steps.refuse(id);
        } catch (error) {
          refused = (error as Error).message;
        }
        await api.sleep("60ms");
        const hook = api.createHook<{ ok: boolean }>({ token: `approve-${id}` });
        const approval = await hook;
        const event = await api.waitForEvent<string>("shipped", { timeout: "1h" });
        return { prepared, charged, refused, approved: approval.ok, shipped: event.payload };
      },
  },
});

let dir: string;
let world: World;
let worker: Worker;

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
  dir = mkdtempSync(join(tmpdir(), "stepwise-tracing-"));
  world = createLocalWorld({ dataDir: dir });
  worker = new Worker({ world });
  worker.start();
});

afterAll(async () => {
  await worker.stop();
  await world.close();
  rmSync(dir, { recursive: true, force: true });
  trace.disable();
  context.disable();
});

const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe("OpenTelemetry spans of a run", () => {
  it("makes one trace: start, run, step attempts, sleep, hook and event waits, and the user's span", async () => {
    const client = createClient({ world });
    const caller = trace.getTracer("app");
    const { runId, traceId, callerSpanId } = await caller.startActiveSpan("POST /orders", async (span) => {
      const run = await client.start(wf.order, ["o-1"]);
      span.end();
      return {
        runId: run.runId,
        traceId: span.spanContext().traceId,
        callerSpanId: span.spanContext().spanId,
      };
    });
    const [created] = await world.events.list(runId);
    const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);

    await until("the hook to listen", async () => (await world.hooks.list({ runId })).length > 0);
    await client.resumeHook("approve-o-1", { ok: true });
    await until("the event wait", async () =>
      (await world.events.list(runId)).some((event) => event.type === "event_wait_created"),
    );
    await client.sendEvent(runId, "shipped", "by truck");
    const run = client.getRun(runId);
    expect(await run.returnValue).toMatchObject({ approved: true, shipped: "by truck" });
    await until("the run span", () => named("run order").length === 1);
    const spans = exporter.getFinishedSpans().filter((span) => span.name !== "POST /orders");

    // One trace: the caller's.
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([traceId]));
    const [start] = named("start order");
    expect(parentOf(start as ReadableSpan)).toBe(callerSpanId);
    const startId = start?.spanContext().spanId;
    // The run keeps the start span's context (what every worker parents to).
    expect(created?.data).toMatchObject({ traceparent: `00-${traceId}-${startId}-01` });

    for (const span of spans.filter((span) => span !== start && span.name !== "user work"))
      expect([span.name, parentOf(span)]).toEqual([span.name, startId]);

    const [prepareSpan] = named("step prepare");
    expect(prepareSpan?.attributes).toMatchObject({
      "stepwise.run.id": runId,
      "stepwise.workflow.name": wf.order.workflowId,
      "stepwise.step.name": wf.stepIds.prepare,
      "stepwise.step.attempt": 1,
      "stepwise.step.outcome": "completed",
    });
    expect(typeof prepareSpan?.attributes["stepwise.step.id"]).toBe("string");
    const [userSpan] = named("user work");
    expect(parentOf(userSpan as ReadableSpan)).toBe(prepareSpan?.spanContext().spanId);

    // The retried step: two attempts, the first retrying with its delay, its error recorded.
    const attempts = named("step flaky").sort(
      (a, b) => Number(a.attributes["stepwise.step.attempt"]) - Number(b.attributes["stepwise.step.attempt"]),
    );
    expect(attempts.map((span) => span.attributes["stepwise.step.outcome"])).toEqual([
      "retrying",
      "completed",
    ]);
    const delay = Number(attempts[0]?.attributes["stepwise.step.retry_delay_ms"]);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(250);
    expect(attempts[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempts[0]?.events.map((event) => event.name)).toEqual(["exception"]);
    expect(attempts[0]?.events[0]?.attributes).toMatchObject({ "exception.message": "busy, try again" });
    const retrying = (await world.events.list(runId)).find((event) => event.type === "step_retrying");
    expect(attempts[0]?.attributes["stepwise.step.retry_at"]).toBe(
      new Date(retrying?.type === "step_retrying" ? retrying.data.retryAt : 0).toISOString(),
    );

    const [refused] = named("step refuse");
    expect(refused?.attributes).toMatchObject({
      "stepwise.step.outcome": "failed",
      "stepwise.step.fatal": true,
    });
    expect(refused?.status).toMatchObject({
      code: SpanStatusCode.ERROR,
      message: "FatalError: card declined for o-1",
    });
    expect(refused?.events[0]?.attributes).toMatchObject({ "exception.type": "FatalError" });

    // Waits, with the times the log recorded.
    const log = await world.events.list(runId);
    const at = (type: string) => log.find((event) => event.type === type)?.createdAt as number;
    const span = (name: string) => named(name)[0] as ReadableSpan;
    const times = (s: ReadableSpan) => [ms(s.startTime), ms(s.endTime)];
    expect(times(span("sleep"))).toEqual([at("wait_created"), at("wait_completed")]);
    const sleepCall = log.find((event) => event.type === "wait_created");
    const resumeAt = sleepCall?.type === "wait_created" ? sleepCall.data.resumeAt : 0;
    expect(span("sleep").attributes).toMatchObject({
      "stepwise.wait.kind": "sleep",
      "stepwise.wait.outcome": "completed",
      "stepwise.sleep.until": new Date(resumeAt).toISOString(),
    });
    expect(times(span("hook"))).toEqual([at("hook_created"), at("hook_received")]);
    expect(times(span("waitForEvent shipped"))).toEqual([at("event_wait_created"), at("event_received")]);
    expect(span("waitForEvent shipped").attributes).toMatchObject({
      "stepwise.event.type": "shipped",
      "stepwise.wait.outcome": "received",
    });

    // The run's span: from its creation to its end.
    const runSpan = span("run order");
    expect(times(runSpan)).toEqual([at("run_created"), at("run_completed")]);
    expect(runSpan.attributes).toMatchObject({
      "stepwise.run.status": "completed",
      "stepwise.run.id": runId,
    });
    expect(runSpan.status.code).toBe(SpanStatusCode.OK);
    await client.getRun(runId).status;
  });

  it("gives a run started outside any span a trace of its own, derived from the run", async () => {
    exporter.reset();
    trace.disable();
    // No provider while starting (a CLI, another service): nothing is recorded with the run.
    const client = createClient({ world });
    const run = await client.start(wf.order, ["o-2"]);
    const [created] = await world.events.list(run.runId);
    expect(created?.data).not.toHaveProperty("traceparent");
    trace.setGlobalTracerProvider(provider);
    await until("the hook to listen", async () => (await world.hooks.list({ runId: run.runId })).length > 0);
    await client.resumeHook("approve-o-2", { ok: true });
    await until("the event wait", async () =>
      (await world.events.list(run.runId)).some((event) => event.type === "event_wait_created"),
    );
    await client.sendEvent(run.runId, "shipped", "by boat");
    await run.returnValue;
    await until("the run span", () => exporter.getFinishedSpans().some((span) => span.name === "run order"));
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(5);
    // One trace, and every Stepwise span under the same (never emitted) parent.
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
    const parents = new Set(spans.filter((s) => s.name !== "user work").map((s) => parentOf(s)));
    expect(parents.size).toBe(1);
  });
});
