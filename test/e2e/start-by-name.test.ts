/**
 * Starting a workflow by name from a process that has no code for it — what a TypeScript
 * application does to start a Python workflow — over a real `npx stepwise server` (SQLite World).
 * A worker registered the workflow with the server (`workers/register`, as the Python worker will)
 * and is gone; a client process with no workflow code then starts it by its plain function name
 * (`start("report", [{ topic: "x" }])`: keyword arguments as one trailing object), and so do
 * `npx stepwise start report` and `POST /stepwise/runs`. The runs are visible as pending and
 * unpinned, and stay so with no worker for them. Then a TypeScript worker with the workflow's
 * code starts in another process (standing in for the Python worker): it runs them, pins them to
 * its code, and the client reads the result back. An unknown name lists the known workflows.
 * (Loads `dist/`: run `npm run build` first.)
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { createRemoteWorld } from "../../src/worlds/remote/index.ts";
import { ok, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const SECRET = randomBytes(24).toString("hex");
const WORKFLOW = "workflow//workflows/report.ts//report";

/** The worker's project: the workflow's code. */
const WORKER_FILES: Record<string, string> = {
  "workflows/report.ts": `
async function title(topic: string) {
  "use step";
  return topic.toUpperCase();
}
export async function report(options: { topic: string }) {
  "use workflow";
  return { title: await title(options.topic), topic: options.topic };
}
`,
};

/** The client's project: no workflow code at all. */
const CLIENT_FILES: Record<string, string> = {
  "start.mjs": `
import { start } from "stepwise-workflows/api";
const run = await start("report", [{ topic: process.argv[2] }]);
console.log(run.runId);
console.log(JSON.stringify(await run.returnValue));
`,
};

let server: ReturnType<typeof spawnNode>;
let serverProject: Project;
let workerProject: Project;
let clientProject: Project;
let origin = "";
let world: World;
const children: ReturnType<typeof spawnNode>[] = [];

function remoteEnv(): Record<string, string> {
  return {
    STEPWISE_WORLD: origin,
    STEPWISE_HTTP_SECRET: SECRET,
    STEPWISE_DATA_DIR: "/nonexistent-the-remote-world-needs-no-data-dir",
  };
}

beforeAll(async () => {
  serverProject = makeProject({});
  workerProject = makeProject(WORKER_FILES);
  clientProject = makeProject(CLIENT_FILES);
  server = spawnNode([CLI, "server", "--port", "0"], serverProject.dir, {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: ".stepwise",
    STEPWISE_HTTP_SECRET: SECRET,
  });
  children.push(server);
  const url = await pollFor("the server's startup line", async () => {
    const match = /listening on (http:\/\/[^ ]+)/.exec(server.output.stderr);
    if (match) return match[1];
    if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
    return undefined;
  });
  origin = new URL(url as string).origin;
  world = createRemoteWorld({ url: origin, secret: SECRET });
});

afterAll(async () => {
  for (const { child } of children) child.kill("SIGKILL");
  await world?.close();
  for (const project of [serverProject, workerProject, clientProject]) project?.remove();
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${origin}/stepwise/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

it("starts a workflow this process has no code for by its plain name, and reads its result once a worker runs it", async () => {
  // Before any worker said it has the workflow, the name is unknown, and nothing is written.
  const unknown = await runNode(["start.mjs", "early"], clientProject.dir, remoteEnv());
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain('No workflow named "report"');
  expect(unknown.stderr).toContain("Start the worker that has the workflow");
  expect((await world.runs.list()).items).toEqual([]);

  // A worker registers the workflow (as the Python worker will), then stops asking for work.
  const registered = await post("protocol/v1/workers/register", {
    language: "python",
    workflows: [{ name: WORKFLOW }],
  });
  expect(registered.status).toBe(200);
  expect(await world.workers?.workflows()).toEqual([WORKFLOW]);

  // The client, with no workflow code, starts it by name and waits for its result.
  const client = spawnNode(["start.mjs", "durable"], clientProject.dir, remoteEnv());
  children.push(client);
  const runId = await pollFor(
    "the client's run id",
    async () => /^(wrun_\S+)$/m.exec(client.output.stdout)?.[1],
  );
  // The CLI, from a project without the code, and the run API, by name too.
  const cliRunId = ok(
    await runNode([CLI, "start", "report", '[{"topic": "cli"}]'], clientProject.dir, remoteEnv()),
  );
  const viaApi = await post("runs", { workflow: "report", args: [{ topic: "api" }] });
  expect(viaApi.status).toBe(201);
  const apiRun = (await viaApi.json()) as { runId: string; workflowName: string };
  expect(apiRun.workflowName).toBe(WORKFLOW);

  // Nobody has the code: the runs wait, visible, unpinned.
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const id of [runId, cliRunId, apiRun.runId]) {
    const run = await world.runs.get(id);
    expect(run).toMatchObject({ workflowName: WORKFLOW, status: "pending" });
    expect(run.bundleHash).toBeUndefined();
  }
  const listed = ok(await runNode([CLI, "inspect", "runs", "--json"], clientProject.dir, remoteEnv()));
  expect(listed).toContain(runId);

  // The worker with the code starts (in another process): it runs them, and the client reads back.
  const worker = spawnNode([CLI, "worker", "workflows/report.ts", "--quiet"], workerProject.dir, remoteEnv());
  children.push(worker);
  expect(await client.exited, client.output.stderr).toBe(0);
  expect(client.output.stdout.trim().split("\n")).toEqual([
    runId,
    JSON.stringify({ title: "DURABLE", topic: "durable" }),
  ]);
  for (const [id, title] of [
    [cliRunId, "cli"],
    [apiRun.runId, "api"],
  ] as const) {
    const result = await pollFor(`run ${id} to complete`, async () => {
      const response = await fetch(`${origin}/stepwise/runs/${id}`, {
        headers: { authorization: `Bearer ${SECRET}` },
      });
      const body = (await response.json()) as { status: string; output?: unknown };
      return body.status === "completed" ? body.output : undefined;
    });
    expect(result).toEqual({ title: title.toUpperCase(), topic: title });
  }
  // The worker that started each run pinned it to its code.
  expect((await world.runs.get(runId)).bundleHash).toMatch(/^[0-9a-f]{64}$/);
}, 120_000);

it("an ambiguous name names both workflows, and starts nothing", async () => {
  await post("protocol/v1/workers/register", {
    language: "python",
    workflows: [{ name: WORKFLOW }, { name: "workflow//app.other//report" }],
  });
  const before = (await world.runs.list()).items.length;
  const response = await post("runs", { workflow: "report", args: [] });
  expect(response.status).toBe(409);
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  expect(error.code).toBe("WORKFLOW_NAME_AMBIGUOUS");
  expect(error.message).toContain(WORKFLOW);
  expect(error.message).toContain("workflow//app.other//report");
  expect((await world.runs.list()).items).toHaveLength(before);
});
