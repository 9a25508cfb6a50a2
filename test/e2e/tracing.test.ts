/**
 * OpenTelemetry across real processes on one SQLite file (docs/tracing.md). Each process
 * registers the SDK with an exporter that appends every span it ends to a file of its own
 * (`spans/<pid>.jsonl`, written synchronously, so a SIGKILL loses nothing already ended):
 *
 * - one trace across a kill: process A starts a run inside a span of its own and drives it until
 *   it is SIGKILLed inside the run's second step (a marker file says the attempt began); process B
 *   takes the run over once A's lease lapses, runs the step again and ends the run. Every span of
 *   both processes is in A's trace, under the start span A recorded with the run.
 * - without `@opentelemetry/api`: a process whose module resolution refuses the package (a
 *   resolve hook, `hide-otel.mjs`, that records each refusal) runs a workflow to its end, and the
 *   refusal proves the lazy loader did try to load it.
 */
import { existsSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventRecord } from "../../src/world/events.ts";
import { type E2eWorld, openE2eWorld, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";

const OTEL = `
import { appendFileSync, mkdirSync } from "node:fs";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

// An exporter that appends each span to spans/<pid>.jsonl as it ends (synchronously).
mkdirSync("spans", { recursive: true });
const file = \`spans/\${process.pid}.jsonl\`;
const exporter = {
  export(spans, done) {
    for (const span of spans) {
      const line = {
        pid: process.pid,
        name: span.name,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        attributes: span.attributes,
      };
      appendFileSync(file, JSON.stringify(line) + "\\n");
    }
    done({ code: 0 });
  },
  shutdown: async () => {},
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
`;

const WORKFLOW = `
import { writeFileSync } from "node:fs";
import { getStepMetadata, sleep } from "stepwise-workflows";

async function first(id: string): Promise<string> {
  "use step";
  return \`first \${id}\`;
}

async function slow(id: string): Promise<string> {
  "use step";
  const { attempt } = getStepMetadata();
  writeFileSync(\`slow-\${attempt}.started\`, String(process.pid));
  // The first attempt never ends: its process is killed in here.
  if (attempt === 1) await new Promise(() => setInterval(() => {}, 1000));
  return \`slow \${id} at attempt \${attempt}\`;
}

export async function trip(id: string) {
  "use workflow";
  const a = await first(id);
  const b = await slow(id);
  await sleep("20ms");
  return [a, b];
}
`;

const FILES: Record<string, string> = {
  "otel.ts": OTEL,
  "workflows/trip.ts": WORKFLOW,
  "start.ts": `
import "./otel.ts";
import { trace } from "@opentelemetry/api";
import { start } from "stepwise-workflows/api";
import { trip } from "./workflows/trip.ts";
const run = await trace.getTracer("app").startActiveSpan("caller", async (span) => {
  const run = await start(trip, ["t-1"]);
  span.end();
  return run;
});
console.log(run.runId);
console.log(JSON.stringify(await run.returnValue));
`,
  "continue.ts": `
import "./otel.ts";
import { getRun } from "stepwise-workflows/api";
import "./workflows/trip.ts";
console.log(JSON.stringify(await getRun(process.argv[2]!).returnValue));
`,
};

interface SpanLine {
  pid: number;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

function readSpans(dir: string): SpanLine[] {
  const spans = join(dir, "spans");
  if (!existsSync(spans)) return [];
  return readdirSync(spans).flatMap((file) =>
    readFileSync(join(spans, file), "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as SpanLine),
  );
}

describe("one trace across processes", () => {
  let project: Project;
  let e2e: E2eWorld;

  beforeAll(async () => {
    project = makeProject(FILES);
    // The application's own OpenTelemetry packages (the same files Stepwise resolves).
    symlinkSync(
      join(REPO, "node_modules", "@opentelemetry"),
      join(project.dir, "node_modules", "@opentelemetry"),
    );
    e2e = await openE2eWorld("local", project.dir);
  });
  afterAll(async () => {
    await e2e?.close();
    project?.remove();
  });

  it("keeps a run in the trace it was started in when its worker is killed and another finishes it", async () => {
    const a = spawnNode(["--import", REGISTER, "start.ts"], project.dir, e2e.env);
    const runId = await pollFor(
      "the run id",
      async () => a.output.stdout.split("\n")[0]?.trim() || undefined,
    );
    await pollFor(
      "slow's first attempt",
      async () => existsSync(join(project.dir, "slow-1.started")) || undefined,
    );
    a.child.kill("SIGKILL");
    expect(await a.exited).toBe(null);
    const killedPid = a.child.pid;

    const b = await runNode(["--import", REGISTER, "continue.ts", runId], project.dir, e2e.env);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout.trim())).toEqual(["first t-1", "slow t-1 at attempt 2"]);
    // The kill landed inside the step: its second attempt ran in another process.
    const secondPid = Number(readFileSync(join(project.dir, "slow-2.started"), "utf8"));
    expect(secondPid).not.toBe(killedPid);

    const spans = readSpans(project.dir);
    const caller = spans.find((span) => span.name === "caller") as SpanLine;
    const startSpan = spans.find((span) => span.name === "start trip") as SpanLine;
    expect(caller.pid).toBe(killedPid);
    expect(startSpan).toMatchObject({ pid: killedPid, traceId: caller.traceId, parentSpanId: caller.spanId });
    const [created] = (await e2e.world.events.list(runId)) as EventRecord[];
    expect(created?.data).toMatchObject({ traceparent: `00-${caller.traceId}-${startSpan.spanId}-01` });

    // Spans of both processes, all in the caller's trace, under the start span.
    const stepwise = spans.filter((span) => span.name !== "caller" && span.name !== "start trip");
    const summary = stepwise.map((span) => `${span.name}@${span.pid === killedPid ? "A" : "B"}`).sort();
    expect(summary).toEqual(["run trip@B", "sleep@B", "step first@A", "step slow@B"]);
    for (const span of stepwise)
      expect(span).toMatchObject({ traceId: caller.traceId, parentSpanId: startSpan.spanId });
    const slow = stepwise.find((span) => span.name === "step slow");
    expect(slow?.attributes).toMatchObject({
      "stepwise.step.attempt": 2,
      "stepwise.step.outcome": "completed",
    });
  });
});

describe("without @opentelemetry/api", () => {
  it("runs a workflow to its end in a process that cannot resolve the package", async () => {
    const project = makeProject({
      "workflows/trip.ts": WORKFLOW.replace("if (attempt === 1) await", "if (attempt === 0) await"),
      "hide-otel.mjs": `
import { register } from "node:module";
register("./hide-otel-hooks.mjs", import.meta.url);
`,
      "hide-otel-hooks.mjs": `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("@opentelemetry/")) {
    appendFileSync(new URL("./refused.log", import.meta.url), specifier + "\\n");
    const error = new Error("Cannot find package '" + specifier + "' (hidden by hide-otel.mjs)");
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}
`,
      "app.ts": `
import { start } from "stepwise-workflows/api";
import { trip } from "./workflows/trip.ts";
const run = await start(trip, ["t-2"]);
console.log(run.runId);
console.log(JSON.stringify(await run.returnValue));
`,
    });
    const e2e = await openE2eWorld("local", project.dir);
    try {
      const result = await runNode(
        ["--import", "./hide-otel.mjs", "--import", REGISTER, "app.ts"],
        project.dir,
        e2e.env,
      );
      expect(result.code, result.stderr).toBe(0);
      const [runId, value] = result.stdout.trim().split("\n");
      expect(JSON.parse(value as string)).toEqual(["first t-2", "slow t-2 at attempt 1"]);
      // The lazy loader asked for the package (once), and was refused.
      expect(readFileSync(join(project.dir, "refused.log"), "utf8")).toBe("@opentelemetry/api\n");
      const [created] = await e2e.world.events.list(runId as string);
      expect(created?.data).not.toHaveProperty("traceparent");
    } finally {
      await e2e.close();
      project.remove();
    }
  });
});
