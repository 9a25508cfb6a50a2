/**
 * Step logs in real processes on a real SQLite file: a dedicated worker (`stepwise worker`) runs
 * workflows whose steps print (console.log, error and warn with objects, steps at once in a
 * Promise.all, a retried step, one past the bound) and still prints it all itself; the output is
 * stored encrypted (the database file holds none of it in clear), `inspect logs` shows
 * `<encrypted>` without `--decrypt`, and the text with it, after an audit record. A worker killed
 * with SIGKILL inside a step and a new one that replays the run: the workflow's line from before
 * the kill is stored and printed once. `GET /runs/:runId/logs` of `stepwise server` over both data
 * directories, with a worker that reaches the World only through that server. (These tests load
 * `dist/`: run `npm run build` first.)
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollFor } from "../helpers/e2e.ts";
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
/** The run of the encrypted data directory (`.enc`), for the API's view of it. */
let encryptedRunId = "";
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
  at?: string;
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
      encryptedRunId = runId;
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

describe("GET /runs/:runId/logs from stepwise server", () => {
  const HTTP_SECRET = randomBytes(16).toString("hex");
  const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".http", STEPWISE_HTTP_SECRET: HTTP_SECRET };
  let server: ReturnType<typeof spawnNode>;
  let origin = "";

  beforeAll(async () => {
    server = spawnNode([cli, "server", "--port", "0"], project.dir, env);
    origin = await pollFor("the server's startup line", async () => {
      const match = /listening on (http:\/\/[^ /]+)/.exec(server.output.stderr);
      if (match) return match[1];
      if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
      return undefined;
    });
  }, 60_000);
  afterAll(async () => {
    server.child.kill("SIGTERM");
    await server.exited;
  });

  const get = async (path: string) => {
    const response = await fetch(`${origin}/stepwise${path}`, {
      headers: { authorization: `Bearer ${HTTP_SECRET}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("serves a run's output, written by a worker over the server's protocol, a page at a time", async () => {
    const remote = { STEPWISE_WORLD: origin, STEPWISE_HTTP_SECRET: HTTP_SECRET };
    const worker = spawnNode([cli, "worker", "workflows/logs.ts", "--quiet"], project.dir, remote);
    let runId = "";
    try {
      runId = (await startRun(remote, "logs", "over-http", true)).runId;
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
    const all = await get(`/runs/${runId}/logs?limit=5000`);
    expect(all.status).toBe(200);
    const logs = all.body.logs as Row[];
    expect(all.body.nextCursor).toBeNull();
    expect(logs[0]).toMatchObject({
      stepId: null,
      stepName: null,
      attempt: null,
      level: "log",
      text: "workflow starts over-http",
    });
    expect(logs[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(logs.filter((row) => row.text?.startsWith("greeting"))).toEqual([
      expect.objectContaining({
        attempt: 1,
        level: "log",
        text: "greeting { name: 'over-http', tags: [ 'a', 'b' ] }",
      }),
    ]);
    // Pages of 7 lines, followed by their cursors, give the same lines.
    const paged: Row[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/runs/${runId}/logs?limit=7${cursor === null ? "" : `&cursor=${cursor}`}`);
      expect(page.status).toBe(200);
      paged.push(...(page.body.logs as Row[]));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null);
    expect(paged).toEqual(logs);
    const flaky = await get(`/runs/${runId}/logs?step=flaky`);
    expect((flaky.body.logs as Row[]).map((row) => [row.attempt, row.text])).toEqual([
      [1, "flaky attempt 1"],
      [2, "flaky attempt 2"],
    ]);
  }, 120_000);

  it("answers 404 for an unknown run and 400 for a malformed query", async () => {
    const missing = await get("/runs/wrun_01J0000000000000000000000/logs");
    expect(missing.status).toBe(404);
    const bad = await get("/runs/wrun_01J0000000000000000000000/logs?cursor=nope");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: "INVALID_QUERY" } });
    const unknown = await get("/runs/wrun_01J0000000000000000000000/logs?level=error");
    expect(unknown.status).toBe(400);
  });

  it("never decrypts: an encrypted attempt's output is one entry saying so, even with the key", async () => {
    expect(encryptedRunId).toMatch(/^wrun_/);
    const keyed = { ...env, STEPWISE_DATA_DIR: ".enc", STEPWISE_ENCRYPTION_KEY: KEY };
    const other = spawnNode([cli, "server", "--port", "0"], project.dir, keyed);
    try {
      const otherOrigin = await pollFor("the server's startup line", async () => {
        const match = /listening on (http:\/\/[^ /]+)/.exec(other.output.stderr);
        if (match) return match[1];
        if (other.child.exitCode !== null) throw new Error(`the server exited: ${other.output.stderr}`);
        return undefined;
      });
      const response = await fetch(`${otherOrigin}/stepwise/runs/${encryptedRunId}/logs?step=greet`, {
        headers: { authorization: `Bearer ${HTTP_SECRET}` },
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { logs: Row[] };
      expect(body.logs).toEqual([
        expect.objectContaining({
          stepName: expect.stringContaining("greet"),
          attempt: 1,
          encrypted: true,
          lines: 3,
        }),
      ]);
      expect(JSON.stringify(body)).not.toContain(SECRET);
    } finally {
      other.child.kill("SIGTERM");
      await other.exited;
    }
  }, 60_000);
});
