/**
 * Workers that reach their World only through a Stepwise server (`STEPWISE_WORLD=http://…`), in
 * real processes: `npx stepwise server` over a SQLite World, two `npx stepwise worker` processes
 * and a client that starts runs, all with only the server's URL and secret. The server is
 * SIGKILLed mid-load and started again on the same port: every run completes, and no step
 * completion and no run end is recorded twice. Then a worker is SIGKILLed mid-load: its runs move
 * to the other worker once its lease runs out. Last, two servers on one PostgreSQL database, a
 * worker behind each: the runs started through one server are shared by both workers and each
 * completes once. (Loads `dist/`: run `npm run build` first.)
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventRecord } from "../../src/world/events.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { ok, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const SECRET = randomBytes(24).toString("hex");
const STEPS = 8;

const FILES: Record<string, string> = {
  "workflows/count.ts": `
import { appendFileSync } from "node:fs";
async function tick(id: string, i: number) {
  "use step";
  await new Promise((resolve) => setTimeout(resolve, 60));
  appendFileSync(process.env.JOURNAL as string, \`\${id} \${i} \${process.pid}\\n\`);
  return i;
}
export async function count(id: string, steps: number) {
  "use workflow";
  let total = 0;
  for (let i = 0; i < steps; i++) total += await tick(id, i);
  return total;
}
`,
  "start.ts": `
import { start } from "stepwise-workflows/api";
import { count } from "./workflows/count.ts";
const n = Number(process.argv[2]);
const prefix = process.argv[3];
for (let i = 0; i < n; i++) {
  const run = await start(count, [\`\${prefix}\${i}\`, ${STEPS}]);
  console.log(run.runId);
}
`,
  "wait.ts": `
import { getRun } from "stepwise-workflows/api";
import "./workflows/count.ts";
console.log(JSON.stringify(await getRun(process.argv[2]!).returnValue));
`,
};

let project: Project;
let world: World;
let port = 0;
const children: ReturnType<typeof spawnNode>[] = [];

function serverEnv(): Record<string, string> {
  return { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise", STEPWISE_HTTP_SECRET: SECRET };
}
function remoteEnv(): Record<string, string> {
  return {
    STEPWISE_WORLD: `http://127.0.0.1:${port}`,
    STEPWISE_HTTP_SECRET: SECRET,
    STEPWISE_DATA_DIR: "/nonexistent-the-remote-world-needs-no-data-dir",
    JOURNAL: join(project.dir, "journal.txt"),
  };
}

/** Starts `npx stepwise server` on `port` (0: a free one, read from its startup line). */
async function startServer(): Promise<ReturnType<typeof spawnNode>> {
  const server = spawnNode([CLI, "server", "--port", String(port)], project.dir, serverEnv());
  children.push(server);
  const url = await pollFor("the server's startup line", async () => {
    const match = /listening on (http:\/\/[^ ]+)/.exec(server.output.stderr);
    if (match) return match[1];
    if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
    return undefined;
  });
  port = Number(new URL(url as string).port);
  return server;
}

function startWorker(): ReturnType<typeof spawnNode> {
  const worker = spawnNode(
    [CLI, "worker", "workflows/count.ts", "--lease-ms", "2000", "--quiet"],
    project.dir,
    remoteEnv(),
  );
  children.push(worker);
  return worker;
}

async function startRuns(n: number, prefix: string): Promise<string[]> {
  const started = ok(
    await runNode(["--import", REGISTER, "start.ts", String(n), prefix], project.dir, {
      ...remoteEnv(),
      STEPWISE_WORKER: "0",
    }),
  );
  return started.split("\n");
}

function journal(): string[] {
  try {
    return readFileSync(join(project.dir, "journal.txt"), "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Every run completed with the right total, and no completion recorded twice. */
async function expectCompletedOnce(runIds: readonly string[]): Promise<void> {
  await pollFor(
    "every run to complete",
    async () => {
      const runs = await Promise.all(runIds.map((id) => world.runs.get(id)));
      return runs.every((run) => run.status === "completed") ? true : undefined;
    },
    90_000,
  );
  for (const runId of runIds) {
    const events: EventRecord[] = await world.events.list(runId);
    const completions = events
      .filter((event) => event.type === "step_completed")
      .map((event) => (event.data as { stepId: string }).stepId);
    expect(completions).toHaveLength(STEPS);
    expect(new Set(completions).size).toBe(STEPS);
    expect(events.filter((event) => event.type === "run_completed")).toHaveLength(1);
  }
}

beforeAll(async () => {
  project = makeProject(FILES);
  world = createLocalWorld({ dataDir: join(project.dir, ".stepwise") });
});

afterAll(async () => {
  for (const { child } of children) child.kill("SIGKILL");
  await world?.close();
  project?.remove();
});

describe("workers over the remote World", () => {
  it("a client and a worker with only the server's URL and secret run a workflow to its result", async () => {
    await startServer();
    startWorker();
    const [runId] = await startRuns(1, "hello-");
    const waited = ok(
      await runNode(["--import", REGISTER, "wait.ts", runId as string], project.dir, {
        ...remoteEnv(),
        STEPWISE_WORKER: "0",
      }),
    );
    expect(JSON.parse(waited)).toBe((STEPS * (STEPS - 1)) / 2);
  }, 60_000);

  it("the server SIGKILLed mid-load and started again: every run completes, none twice", async () => {
    const server = children[0] as ReturnType<typeof spawnNode>;
    startWorker();
    const runIds = await startRuns(12, "crash-");
    await pollFor("some steps to run", async () =>
      journal().filter((l) => l.startsWith("crash-")).length >= 10 ? true : undefined,
    );
    server.child.kill("SIGKILL");
    await server.exited;
    const doneAtKill = journal().filter((l) => l.startsWith("crash-")).length;
    expect(doneAtKill).toBeLessThan(12 * STEPS); // the kill came before the load was done
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await startServer();
    await expectCompletedOnce(runIds);
    // The kill happened mid-load: steps ran after it.
    expect(journal().length).toBeGreaterThan(doneAtKill);
  }, 150_000);

  it("a worker SIGKILLed mid-load: its runs move to the other worker and complete", async () => {
    const workers = children.filter((c) => c !== children[0]).slice(-2) as ReturnType<typeof spawnNode>[];
    const victim = workers[0] as ReturnType<typeof spawnNode>;
    const runIds = await startRuns(12, "worker-kill-");
    await pollFor("the victim to run a step", async () =>
      journal().some((l) => l.startsWith("worker-kill-") && l.endsWith(` ${victim.child.pid}`))
        ? true
        : undefined,
    );
    victim.child.kill("SIGKILL");
    await victim.exited;
    const killedAt = Date.now();
    await expectCompletedOnce(runIds);
    // A run the victim was driving was finished by the other worker (its steps show both pids),
    // within the lease time and some slack.
    const pids = new Map<string, Set<string>>();
    for (const line of journal().filter((l) => l.startsWith("worker-kill-"))) {
      const [id, , pid] = line.split(" ");
      pids.set(id as string, (pids.get(id as string) ?? new Set()).add(pid as string));
    }
    const moved = [...pids.values()].filter((set) => set.has(String(victim.child.pid)) && set.size > 1);
    expect(moved.length).toBeGreaterThan(0);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
  }, 150_000);
});

describe("two servers on one PostgreSQL", () => {
  it("workers behind different servers share the runs, and every run completes once", async () => {
    const { startPostgres } = await import("../helpers/postgres.ts");
    const { createPostgresWorld } = await import("../../src/worlds/postgres/index.ts");
    const pg = await startPostgres();
    const url = await pg.createDatabase();
    const pgWorld = await createPostgresWorld({ connectionString: url });
    const servers: { url: string; process: ReturnType<typeof spawnNode> }[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const server = spawnNode([CLI, "server", "--port", "0"], project.dir, {
          STEPWISE_WORLD: "postgres",
          STEPWISE_POSTGRES_URL: url,
          STEPWISE_HTTP_SECRET: SECRET,
        });
        children.push(server);
        const listening = await pollFor("a server's startup line", async () => {
          if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
          return /listening on (http:\/\/\S+)/.exec(server.output.stderr)?.[1];
        });
        servers.push({ url: listening, process: server });
      }
      const behind = (server: { url: string }) => ({ ...remoteEnv(), STEPWISE_WORLD: server.url });
      for (const server of servers) {
        children.push(
          spawnNode(
            [CLI, "worker", "workflows/count.ts", "--concurrency", "2", "--quiet"],
            project.dir,
            behind(server),
          ),
        );
      }
      const started = ok(
        await runNode(["--import", REGISTER, "start.ts", "10", "shared-"], project.dir, {
          ...behind(servers[0] as { url: string }),
          STEPWISE_WORKER: "0",
        }),
      ).split("\n");
      await pollFor(
        "every run to complete",
        async () => {
          const runs = await Promise.all(started.map((id) => pgWorld.runs.get(id)));
          return runs.every((run) => run.status === "completed") ? true : undefined;
        },
        90_000,
      );
      for (const runId of started) {
        const events = await pgWorld.events.list(runId);
        const completed = events.filter((event) => event.type === "step_completed");
        expect(new Set(completed.map((event) => (event.data as { stepId: string }).stepId)).size).toBe(STEPS);
        expect(completed).toHaveLength(STEPS);
      }
      // Both workers (one behind each server) ran steps of these runs.
      const pids = new Set(
        journal()
          .filter((line) => line.startsWith("shared-"))
          .map((line) => line.split(" ")[2]),
      );
      expect(pids.size).toBe(2);
    } finally {
      for (const server of servers) server.process.child.kill("SIGKILL");
      await pgWorld.close();
      await pg.stop();
    }
  }, 150_000);
});

describe("npx stepwise server", () => {
  it("refuses to start without a secret, or on a port in use, saying what to do", async () => {
    const noSecret = await runNode([CLI, "server", "--port", "0"], project.dir, {
      ...serverEnv(),
      STEPWISE_HTTP_SECRET: "",
    });
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain("needs STEPWISE_HTTP_SECRET");
    const first = spawnNode([CLI, "server", "--port", "0"], project.dir, serverEnv());
    children.push(first);
    const url = await pollFor(
      "the startup line",
      async () => /listening on (http:\/\/\S+)/.exec(first.output.stderr)?.[1],
    );
    const taken = await runNode([CLI, "server", "--port", new URL(url).port], project.dir, serverEnv());
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain("already in use by another program: choose another port with --port");
    first.child.kill("SIGKILL");
  }, 60_000);

  it("on SIGTERM answers its long polls at once, and exits 0", async () => {
    const server = spawnNode([CLI, "server", "--port", "0"], project.dir, serverEnv());
    children.push(server);
    const url = await pollFor(
      "the startup line",
      async () => /listening on (http:\/\/\S+)/.exec(server.output.stderr)?.[1],
    );
    const headers = { authorization: `Bearer ${SECRET}`, "content-type": "application/json" };
    const poll = fetch(`${url}/stepwise/protocol/v1/queue/claim`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        owner: "waiting",
        limit: 1,
        leaseMs: 1000,
        workflows: ["workflow//none//none"],
        waitMs: 50_000,
      }),
    });
    await pollFor("the long poll to wait", async () => {
      const health = (await (await fetch(`${url}/health`)).json()) as { waiting: number };
      return health.waiting === 1 ? true : undefined;
    });
    const signalled = Date.now();
    server.child.kill("SIGTERM");
    const answer = (await (await poll).json()) as { messages: unknown[] };
    expect(answer.messages).toEqual([]);
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(server.output.stderr).toContain("stepwise server stopped.");
  }, 60_000);
});
