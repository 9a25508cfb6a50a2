/**
 * Step timeouts and the step's abort signal in real processes on a real SQLite file: a step
 * blocking on a promise that never settles is timed out and retried, and its signal fires (the
 * step writes what it saw to a journal with appendFileSync, so the journal is exact); cancelling a
 * run (`npx stepwise cancel`) aborts its durable `fetch` to a local server that never answers,
 * and the run is recorded cancelled without waiting for it; the signal fires when the worker shuts
 * down (SIGTERM, once its stop grace ran out: the step stops, and runs again on the next worker)
 * and when the worker loses the run's lease (frozen with SIGSTOP until another worker took the run
 * over: its late result is not recorded). (These tests load `dist/`: run `npm run build` first.)
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, type Project, REGISTER, runNode, spawnNode } from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "workflows/abort.ts": `
import { appendFileSync } from "node:fs";
import { fetch, getStepMetadata, type StepAbortedError } from "stepwise-workflows";

function note(...parts: unknown[]): void {
  appendFileSync("journal.log", parts.join(" ") + "\\n");
}

/** Journals the attempt's start and, when its signal aborts, why. */
function watch(label: string): AbortSignal {
  const { attempt, signal } = getStepMetadata();
  note("start", label, attempt, process.pid);
  signal.addEventListener("abort", () => {
    const reason = signal.reason as StepAbortedError;
    note("abort", label, attempt, process.pid, reason.code, reason.reason);
  }, { once: true });
  return signal;
}
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));

/** Blocks on a promise that never settles, until attempt 3. */
async function hangs(label: string): Promise<string> {
  "use step";
  watch(label);
  const { attempt } = getStepMetadata();
  if (attempt < 3) await new Promise(() => {});
  return \`done@\${attempt}\`;
}
hangs.timeout = "400ms";
hangs.retries = { delay: 10, backoff: "constant" };

/** Never ends, and has no attempt left after the first. */
async function stuck(label: string): Promise<string> {
  "use step";
  watch(label);
  await new Promise(() => {});
  return "unreachable";
}
stuck.timeout = 300;
stuck.maxRetries = 0;

/** Attempt 1 waits for its signal and stops (throws its reason); later attempts succeed. */
async function stopsWhenTold(label: string): Promise<string> {
  "use step";
  const signal = watch(label);
  const { attempt } = getStepMetadata();
  if (attempt === 1) {
    await aborted(signal);
    throw signal.reason;
  }
  return \`done@\${attempt} in \${process.pid}\`;
}

/** Attempt 1 waits for its signal, then returns all the same; later attempts return at once. */
async function returnsAnyway(label: string): Promise<string> {
  "use step";
  const signal = watch(label);
  const { attempt } = getStepMetadata();
  if (attempt === 1) {
    await aborted(signal);
    note("returned", label, attempt, process.pid);
  }
  return \`from \${process.pid}\`;
}

export async function timesOut(label: string) {
  "use workflow";
  return await hangs(label);
}

export async function givesUp(label: string) {
  "use workflow";
  return await stuck(label);
}

export async function fetches(url: string) {
  "use workflow";
  const response = await fetch(url);
  return response.status;
}

export async function stops(label: string) {
  "use workflow";
  return await stopsWhenTold(label);
}

export async function leases(label: string) {
  "use workflow";
  return await returnsAnyway(label);
}
`,
  "timeout.ts": `
import { StepTimeoutError, WorkflowRunFailedError } from "stepwise-workflows";
import { start } from "stepwise-workflows/api";
import { givesUp, timesOut } from "./workflows/abort.ts";
const retried = await start(timesOut, ["hang"]);
console.log(JSON.stringify({ runId: retried.runId, result: await retried.returnValue }));
const failed = await start(givesUp, ["stuck"]);
try {
  await failed.returnValue;
} catch (error) {
  const cause = (error as WorkflowRunFailedError).cause as Error;
  console.log(JSON.stringify({
    failed: WorkflowRunFailedError.is(error),
    timedOut: StepTimeoutError.is(cause),
    message: cause.message,
  }));
}
`,
  "bad-timeout.ts": `
async function charge(id: string): Promise<string> {
  "use step";
  return id;
}
charge.timeout = "soon";

export async function pay(id: string) {
  "use workflow";
  return await charge(id);
}
`,
};

/** Each test on a data directory of its own, so no process meets another test's runs. */
const envFor = (tag: string) => ({ STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: `.stepwise-${tag}` });
let project: Project;
let cli: string;
beforeAll(() => {
  project = makeProject(FILES);
  cli = join(project.dir, "node_modules/stepwise-workflows/dist/cli/index.js");
});
afterAll(() => project.remove());

/** The journal's lines for `label`: [what, attempt, pid, ...rest]. */
function journal(label: string): string[][] {
  const file = join(project.dir, "journal.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([, name]) => name === label)
    .map(([what, , ...rest]) => [what as string, ...rest]);
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function cliJson<T>(tag: string, ...args: string[]): Promise<T> {
  const result = await runNode([cli, ...args, "--json"], project.dir, envFor(tag));
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}
const runRecord = async (tag: string, runId: string) =>
  (await cliJson<{ items: { status: string; output?: unknown }[] }>(tag, "inspect", "runs", runId)).items[0];
const eventTypes = async (tag: string, runId: string) =>
  (await cliJson<{ items: { type: string }[] }>(tag, "inspect", "events", runId)).items.map((e) => e.type);

function startWorker(tag: string, ...options: string[]) {
  return spawnNode([cli, "worker", "workflows/abort.ts", ...options], project.dir, envFor(tag));
}
async function startRun(tag: string, workflow: string, args: unknown[]): Promise<string> {
  const result = await runNode([cli, "start", workflow, JSON.stringify(args)], project.dir, envFor(tag));
  expect(result.code, result.stderr).toBe(0);
  const runId = result.stdout.trim();
  expect(runId).toMatch(/^wrun_/);
  return runId;
}

describe("step timeouts and abort signals, in real processes", () => {
  it("a step blocking on a promise that never settles is timed out and retried, and its signal fires", async () => {
    const result = await runNode(["--import", REGISTER, "timeout.ts"], project.dir, envFor("timeout"));
    expect(result.code, result.stderr).toBe(0);
    const [retried, failed] = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(retried.result).toBe("done@3");
    // The same process ran every attempt; each of the first two saw its signal abort for its timeout.
    const lines = journal("hang").map(([what, attempt, , ...why]) => [what, attempt, ...why].join(" "));
    expect(lines).toEqual([
      "start 1",
      "abort 1 STEP_TIMEOUT timeout",
      "start 2",
      "abort 2 STEP_TIMEOUT timeout",
      "start 3",
    ]);
    const steps = await cliJson<{ items: { status: string; attempt: number }[] }>(
      "timeout",
      "inspect",
      "steps",
      retried.runId,
    );
    expect(steps.items.map((step) => [step.status, step.attempt])).toEqual([["completed", 3]]);
    expect((await eventTypes("timeout", retried.runId)).filter((t) => t === "step_retrying")).toHaveLength(2);
    // Out of attempts: the run fails with the timeout, which says after how long.
    expect(failed).toMatchObject({ failed: true, timedOut: true });
    expect(failed.message).toMatch(
      /^Step step\/\/workflows\/abort\.ts\/\/stuck timed out after 300ms \(attempt 1/,
    );
    expect(journal("stuck").map(([what, attempt, , ...why]) => [what, attempt, ...why].join(" "))).toEqual([
      "start 1",
      "abort 1 STEP_TIMEOUT timeout",
    ]);
  }, 60_000);

  it("cancel aborts a running fetch to a local server that never answers, and the run is recorded cancelled at once", async () => {
    let requests = 0;
    let closed = 0;
    const silent: Server = createServer((request) => {
      requests += 1;
      request.socket.on("close", () => {
        closed += 1;
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const worker = startWorker("fetch");
    try {
      const { port } = silent.address() as AddressInfo;
      const runId = await startRun("fetch", "fetches", [`http://127.0.0.1:${port}/never`]);
      await until("the worker's request to arrive", () => (requests === 1 ? true : undefined));
      // The fetch never ends by itself: `cancel` returning at all means it did not wait for it.
      const cancel = await runNode([cli, "cancel", runId], project.dir, envFor("fetch"));
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(cancel.stdout.trim()).toBe(`${runId} cancelled`);
      expect((await runRecord("fetch", runId))?.status).toBe("cancelled");
      // The worker aborted the request: its connection closed, with no answer ever sent.
      await until("the aborted request's connection to close", () => (closed === 1 ? true : undefined));
      expect(requests).toBe(1);
      expect(await eventTypes("fetch", runId)).toEqual([
        "run_created",
        "run_started",
        "step_started",
        "run_cancelled",
      ]);
      expect(worker.child.exitCode).toBeNull();
    } finally {
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 60_000);

  it("the signal fires when the worker shuts down: the step stops, is not failed, and runs again on the next worker", async () => {
    const first = startWorker("shutdown", "--stop-grace-ms", "200");
    const runId = await startRun("shutdown", "stops", ["stop"]);
    await until("the step to start", () => (journal("stop").length > 0 ? true : undefined));
    first.child.kill("SIGTERM");
    // The step stopped when told to (once the grace ran out), so the worker exits without waiting for it.
    expect(await first.exited).toBe(0);
    const firstPid = String(first.child.pid);
    expect(journal("stop")).toEqual([
      ["start", "1", firstPid],
      ["abort", "1", firstPid, "STEP_ABORTED", "shutdown"],
    ]);
    // Neither failed nor retried: the attempt left no outcome, and the run was handed back.
    expect(await eventTypes("shutdown", runId)).toEqual(["run_created", "run_started", "step_started"]);

    const second = startWorker("shutdown");
    try {
      const output = await until("the run to complete", async () => {
        const run = await runRecord("shutdown", runId);
        return run?.status === "completed" ? run.output : undefined;
      });
      expect(output).toBe(`done@2 in ${second.child.pid}`);
      expect(journal("stop").slice(2)).toEqual([["start", "2", String(second.child.pid)]]);
    } finally {
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    }
  }, 60_000);

  it("a malformed timeout is an error at the line that sets it, when the module loads", async () => {
    const result = await runNode(["--import", REGISTER, "bad-timeout.ts"], project.dir, envFor("bad"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'InvalidDurationError: The timeout of step step//bad-timeout.ts//charge: "soon" is not a valid duration.',
    );
    expect(result.stderr).toMatch(/bad-timeout\.ts:6:/);
  }, 60_000);

  it("a malformed --stop-grace-ms is a usage error that says what is expected", async () => {
    for (const value of ["soon", "-5", "1.5"]) {
      const result = await runNode([cli, "worker", "--stop-grace-ms", value], project.dir, envFor("usage"));
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain("Expected a whole number of milliseconds, at least 0.");
    }
  }, 60_000);

  it("the signal fires when the worker loses the run's lease, and what the step returns then is discarded", async () => {
    const frozen = startWorker("lease", "--lease-ms", "1000", "--quiet");
    let other: ReturnType<typeof startWorker> | undefined;
    try {
      const runId = await startRun("lease", "leases", ["lease"]);
      await until("the step to start", () => (journal("lease").length > 0 ? true : undefined));
      // Frozen past its lease: another worker takes the run over and runs the step again.
      frozen.child.kill("SIGSTOP");
      other = startWorker("lease", "--lease-ms", "1000", "--quiet");
      const output = await until("the other worker to complete the run", async () => {
        const run = await runRecord("lease", runId);
        return run?.status === "completed" ? run.output : undefined;
      });
      const frozenPid = String(frozen.child.pid);
      const otherPid = String(other.child.pid);
      expect(output).toBe(`from ${otherPid}`);
      // Thawed, the first worker finds its lease gone and aborts the step it still runs.
      frozen.child.kill("SIGCONT");
      await until("the frozen worker's step to return", () =>
        journal("lease").some(([what]) => what === "returned") ? true : undefined,
      );
      expect(journal("lease")).toEqual([
        ["start", "1", frozenPid],
        ["start", "2", otherPid],
        ["abort", "1", frozenPid, "STEP_ABORTED", "lease-lost"],
        ["returned", "1", frozenPid],
      ]);
      // Its late result was never recorded: one completion, the other worker's.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const types = await eventTypes("lease", runId);
      expect(types.filter((type) => type === "step_completed")).toHaveLength(1);
      expect((await runRecord("lease", runId))?.output).toBe(`from ${otherPid}`);
    } finally {
      frozen.child.kill("SIGCONT");
      frozen.child.kill("SIGTERM");
      other?.child.kill("SIGTERM");
      await Promise.all([frozen.exited, other?.exited]);
    }
  }, 90_000);
});
