/**
 * Step logs in real processes on a real SQLite file: a dedicated worker (`stepwise worker`) runs
 * workflows whose steps print (console.log, error and warn with objects, steps at once in a
 * Promise.all, a retried step, one past the bound) and still prints it all itself; the output is
 * stored encrypted (the database file holds none of it in clear), `inspect logs` shows
 * `<encrypted>` without `--decrypt`, and the text with it, after an audit record. A worker killed
 * with SIGKILL inside a step and a new one that replays the run: the workflow's line from before
 * the kill is stored and printed once. (These tests load `dist/`: run `npm run build` first.)
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  makeProject,
  type NodeResult,
  type Project,
  REGISTER,
  runNode,
  spawnNode,
} from "../helpers/project.ts";
import { sqliteFiles } from "../serde/encryption-project.ts";

const FILES: Record<string, string> = {
  "workflows/logs.ts": `
import { appendFileSync } from "node:fs";
import { getStepMetadata } from "stepwise-workflows";

async function greet(name: string): Promise<string> {
  "use step";
  console.log("greeting", { name, tags: ["a", "b"] });
  console.error("an error line", new Error("boom").message, [1, 2]);
  console.warn("a warning");
  return \`hi \${name}\`;
}

async function part(i: number): Promise<number> {
  "use step";
  for (let k = 0; k < 4; k++) {
    console.log(\`part \${i} line \${k}\`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  return i;
}

async function flaky(): Promise<number> {
  "use step";
  const { attempt } = getStepMetadata();
  console.log(\`flaky attempt \${attempt}\`);
  if (attempt < 2) throw new Error("not yet");
  return attempt;
}
flaky.retries = { delay: "10ms", backoff: "constant" };

async function big(): Promise<number> {
  "use step";
  for (let i = 0; i < 1500; i++) console.log(\`big line \${i}\`);
  return 1500;
}

async function slow(ms: number): Promise<number> {
  "use step";
  const { attempt } = getStepMetadata();
  console.log(\`slow attempt \${attempt}\`);
  appendFileSync("inside.log", \`\${attempt} \${process.pid}\\n\`);
  await new Promise((resolve) => setTimeout(resolve, attempt === 1 ? ms : 1));
  return attempt;
}

export async function logs(secret: string) {
  "use workflow";
  console.log("workflow starts", secret);
  const greeting = await greet(secret);
  const parts = await Promise.all([0, 1, 2, 3].map((i) => part(i)));
  const attempts = await flaky();
  await big();
  console.log("workflow ends", parts.length, attempts);
  return greeting;
}

export async function killable(tag: string) {
  "use workflow";
  console.log(\`before the kill \${tag}\`);
  const attempt = await slow(60_000);
  console.log(\`after the kill \${tag}\`);
  return attempt;
}
`,
  "start.ts": `
import { start } from "stepwise-workflows/api";
import { killable, logs } from "./workflows/logs.ts";
const which = process.argv[2];
const run = which === "killable" ? await start(killable, [process.argv[3] ?? ""]) : await start(logs, [process.argv[3] ?? ""]);
console.log(run.runId);
if (process.argv[4] === "wait") console.log(JSON.stringify(await run.returnValue));
`,
};

const KEY = randomBytes(32).toString("base64");
const SECRET = `S3CR3T-${randomBytes(4).toString("hex")}`;

let project: Project;
let cli: string;
beforeAll(() => {
  project = makeProject(FILES);
  cli = join(project.dir, "node_modules/stepwise-workflows/dist/cli/index.js");
});
afterAll(() => project.remove());

const stepwise = (env: Record<string, string>, ...args: string[]): Promise<NodeResult> =>
  runNode([cli, ...args], project.dir, env);

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Row = {
  stepName: string | null;
  attempt: number | null;
  level?: string;
  text?: string;
  encrypted?: boolean;
  lines?: number;
};

async function logRows(env: Record<string, string>, runId: string, ...args: string[]): Promise<Row[]> {
  const result = await stepwise(env, "inspect", "logs", runId, "--json", "--limit", "5000", ...args);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { items: Row[] }).items;
}

const short = (row: Row) => row.stepName?.split("//").pop() ?? "(workflow)";

/** Starts a run from a process that executes nothing; waits for its result when `wait`. */
async function startRun(env: Record<string, string>, which: string, arg: string, wait: boolean) {
  const result = await runNode(
    ["--import", REGISTER, "start.ts", which, arg, wait ? "wait" : ""],
    project.dir,
    { ...env, STEPWISE_WORKER: "0" },
  );
  expect(result.code, result.stderr).toBe(0);
  const [runId = "", output = ""] = result.stdout.trim().split("\n");
  return { runId, output };
}

describe("step logs through a real worker on SQLite, encrypted", () => {
  const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".enc", STEPWISE_ENCRYPTION_KEY: KEY };
  let runId = "";
  let workerOutput = "";

  beforeAll(async () => {
    const worker = spawnNode([cli, "worker", "workflows/logs.ts", "--quiet"], project.dir, env);
    try {
      const started = await startRun(env, "logs", SECRET, true);
      runId = started.runId;
      expect(JSON.parse(started.output)).toBe(`hi ${SECRET}`);
    } finally {
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
      workerOutput = worker.output.stdout + worker.output.stderr;
    }
  }, 120_000);

  it("still prints everything the steps and the workflow print (a tee)", () => {
    expect(workerOutput).toContain(`greeting { name: '${SECRET}', tags: [ 'a', 'b' ] }`);
    expect(workerOutput).toContain("an error line boom [ 1, 2 ]");
    expect(workerOutput).toContain(`workflow starts ${SECRET}`);
    expect(workerOutput).toContain("part 3 line 3");
    expect(workerOutput.split(`workflow starts ${SECRET}`)).toHaveLength(2);
  });

  it("stores the output encrypted: the database holds none of it in clear", () => {
    const bytes = sqliteFiles(join(project.dir, ".enc"));
    expect(bytes.includes(SECRET)).toBe(false);
    expect(bytes.includes("greeting")).toBe(false);
    expect(bytes.includes("big line 1")).toBe(false);
  });

  it("inspect logs shows <encrypted> without --decrypt, one entry per attempt, and records nothing", async () => {
    const rows = await logRows(env, runId);
    expect(rows.every((row) => row.encrypted === true)).toBe(true);
    // The workflow body's outputs, greet, 4 parts, flaky twice, big.
    expect(
      rows
        .filter((row) => row.stepName !== null)
        .map((row) => `${short(row)} ${row.attempt}`)
        .sort(),
    ).toEqual(["big 1", "flaky 1", "flaky 2", "greet 1", "part 1", "part 1", "part 1", "part 1"]);
    const table = await stepwise(env, "inspect", "logs", runId);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("<encrypted> (3 lines: --decrypt shows them)");
    expect(table.stdout).not.toContain(SECRET);
    const audit = await stepwise(env, "inspect", "audit", runId, "--json");
    expect(JSON.parse(audit.stdout).items).toEqual([]);
  });

  it("inspect logs --decrypt shows every line with its step, attempt and stream, after an audit record", async () => {
    const rows = await logRows(env, runId, "--decrypt", "--reason", "step logs test");
    const text = (name: string) => rows.filter((row) => short(row) === name).map((row) => row.text);
    expect(rows.filter((row) => short(row) === "greet").map((row) => [row.level, row.text])).toEqual([
      ["log", `greeting { name: '${SECRET}', tags: [ 'a', 'b' ] }`],
      ["error", "an error line boom [ 1, 2 ]"],
      ["warn", "a warning"],
    ]);
    expect(text("(workflow)")).toEqual([`workflow starts ${SECRET}`, "workflow ends 4 2"]);
    // Four steps printed at once: each attempt holds its own lines, in order.
    const parts = rows.filter((row) => short(row) === "part");
    expect(parts).toHaveLength(16);
    for (let i = 0; i < 4; i++) {
      const mine = parts.filter((row) => row.text?.startsWith(`part ${i} `)).map((row) => row.text);
      expect(mine).toEqual([0, 1, 2, 3].map((k) => `part ${i} line ${k}`));
    }
    // A retried step: each attempt its own line.
    expect(rows.filter((row) => short(row) === "flaky").map((row) => [row.attempt, row.text])).toEqual([
      [1, "flaky attempt 1"],
      [2, "flaky attempt 2"],
    ]);
    // Past the bound: 1,000 lines kept, and a note of what was left out.
    const big = rows.filter((row) => short(row) === "big");
    expect(big).toHaveLength(1001);
    expect(big[999]?.text).toBe("big line 999");
    expect(big[1000]).toMatchObject({ level: "truncated" });
    expect(big[1000]?.text).toContain("500 more lines");

    const audit = await stepwise(env, "inspect", "audit", runId, "--json");
    const records = JSON.parse(audit.stdout).items as Record<string, unknown>[];
    expect(records.map((record) => [record.resource, record.outcome ?? "attempt", record.reason])).toEqual([
      ["logs", "succeeded", undefined],
      ["logs", "attempt", "step logs test"],
    ]);
    const table = await stepwise(env, "inspect", "logs", runId, "--step", "greet", "--decrypt");
    expect(table.stdout).toMatch(/greet\s+1\s+error\s+an error line boom \[ 1, 2 \]/);
  });
});

describe("step logs across a SIGKILL", () => {
  const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".kill" };

  it("stores and prints the workflow's line from before the kill once, and the new attempt's output", async () => {
    const first = spawnNode([cli, "worker", "workflows/logs.ts", "--quiet"], project.dir, env);
    const { runId } = await startRun(env, "killable", "k1", false);
    // The worker is inside the slow step: the workflow's line was recorded with the step's start.
    await until("the worker to be inside the step", () =>
      existsSync(join(project.dir, "inside.log")) ? true : undefined,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    expect(first.output.stdout).toContain("before the kill k1");

    const second = spawnNode([cli, "worker", "workflows/logs.ts", "--quiet"], project.dir, env);
    try {
      await until(`run ${runId} to complete`, async () => {
        const result = await stepwise(env, "inspect", "runs", runId, "--json");
        const [run] = JSON.parse(result.stdout).items as { status: string }[];
        return run?.status === "completed" ? true : undefined;
      });
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
    // The replay in the second worker neither printed nor stored the line again.
    expect(second.output.stdout).not.toContain("before the kill k1");
    expect(second.output.stdout).toContain("after the kill k1");
    const rows = await logRows(env, runId);
    expect(rows.map((row) => `${short(row)} ${row.attempt ?? "-"} ${row.text}`)).toEqual([
      "(workflow) - before the kill k1",
      // Attempt 1 was killed before its outcome was stored: its output went with it.
      "slow 2 slow attempt 2",
      "(workflow) - after the kill k1",
    ]);
  }, 120_000);
});
