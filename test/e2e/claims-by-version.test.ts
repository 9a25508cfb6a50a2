/**
 * Task leases by code version over a real `npx stepwise server` process (SQLite World): two
 * workers registered (`workers/register`) with different versions of one workflow, as Python
 * workers register the hash of their code, and runs pinned to each. Each worker's `tasks/lease`
 * is handed only its own version's runs (and a run nobody has pinned yet); a v1 run started while
 * only the v2 worker asks for work waits — visible as pending, its start message queued — through
 * the v2 worker's long polls, and is handed out as soon as a v1 worker registers and asks. The
 * runs are created through the remote World, as any client of the server does. (Loads `dist/`:
 * run `npm run build` first.)
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { QueueMessage, World } from "../../src/world/types.ts";
import { createRemoteWorld } from "../../src/worlds/remote/index.ts";
import { pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REPO, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const SECRET = randomBytes(24).toString("hex");
const WORKFLOW = "workflow//app.workflows.report//report";
const V1 = "1".repeat(64);
const V2 = "2".repeat(64);

let project: Project;
let server: ReturnType<typeof spawnNode>;
let base = "";
let world: World;

beforeAll(async () => {
  project = makeProject({});
  server = spawnNode([CLI, "server", "--port", "0"], project.dir, {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: ".stepwise",
    STEPWISE_HTTP_SECRET: SECRET,
  });
  const url = await pollFor("the server's startup line", async () => {
    const match = /listening on (http:\/\/[^ ]+)/.exec(server.output.stderr);
    if (match) return match[1];
    if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
    return undefined;
  });
  const origin = new URL(url as string).origin;
  base = `${origin}/stepwise/protocol/v1`;
  world = createRemoteWorld({ url: origin, secret: SECRET });
});

afterAll(async () => {
  await world?.close();
  server?.child.kill("SIGKILL");
  project?.remove();
});

/** One protocol request, as a worker in any language sends it; the answer's JSON. */
async function call<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${base}/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function register(version: string): Promise<string> {
  const { worker } = await call<{ worker: { workerId: string } }>("workers/register", {
    language: "python",
    workflows: [{ name: WORKFLOW, version, digest: `digest-${version.slice(0, 1)}` }],
  });
  return worker.workerId;
}

async function lease(workerId: string, waitMs = 0): Promise<QueueMessage[]> {
  const { messages } = await call<{ messages: QueueMessage[] }>("tasks/lease", {
    workerId,
    limit: 10,
    leaseMs: 60_000,
    waitMs,
  });
  return messages;
}

function createRun(runId: string, bundleHash?: string) {
  return world.runs.create({
    runId,
    workflowName: WORKFLOW,
    specVersion: 4,
    seed: "0123456789abcdef0123456789abcdef",
    encrypted: false,
    input: new Uint8Array([1, 91, 93]),
    ...(bundleHash === undefined ? {} : { bundleHash }),
  });
}

const runsOf = (messages: QueueMessage[]) => messages.map((message) => message.runId).sort();

it("hands each worker only the runs pinned to its version, and a v1 run waits for a v1 worker", async () => {
  const one = await register(V1);
  const two = await register(V2);
  await createRun("wrun_v1_a", V1);
  await createRun("wrun_v2_a", V2);
  await createRun("wrun_v1_b", V1);
  await createRun("wrun_v2_b", V2);

  expect(runsOf(await lease(two))).toEqual(["wrun_v2_a", "wrun_v2_b"]);
  expect(runsOf(await lease(one))).toEqual(["wrun_v1_a", "wrun_v1_b"]);
  expect(await lease(two)).toEqual([]);

  // A run nobody has pinned yet goes to whichever worker asks; the one that starts it pins it.
  await createRun("wrun_unpinned");
  const [unpinned] = await lease(two);
  expect(unpinned?.runId).toBe("wrun_unpinned");
  await world.events.append({
    runId: "wrun_unpinned",
    expectedSeq: 1,
    events: [{ type: "run_started", data: { bundleHash: V2 } }],
    enqueue: [{ runId: "wrun_unpinned", kind: "wake" }],
  });
  expect(await lease(one)).toEqual([]);
  expect(runsOf(await lease(two))).toEqual(["wrun_unpinned"]);

  // Only the v2 worker asks for work now: a new v1 run waits through its long polls, visible.
  const polling = lease(two, 1500);
  await createRun("wrun_v1_late", V1);
  expect(await polling).toEqual([]);
  expect(await lease(two, 500)).toEqual([]);
  expect(await world.runs.get("wrun_v1_late")).toMatchObject({ status: "pending", bundleHash: V1 });
  const waiting = await world.queue.list("wrun_v1_late");
  expect(waiting).toMatchObject([{ kind: "start", deliveries: 0 }]);
  expect(waiting[0]?.lease).toBeUndefined();

  // A v1 worker registers (the code is deployed again) and is handed the run at once.
  const again = await register(V1);
  expect(runsOf(await lease(again, 5000))).toEqual(["wrun_v1_late"]);
});

it("a worker whose workflows name no version is handed every version", async () => {
  const { worker } = await call<{ worker: { workerId: string } }>("workers/register", {
    language: "typescript",
    workflows: [{ name: WORKFLOW }],
  });
  await createRun("wrun_any_v1", V1);
  await createRun("wrun_any_v2", V2);
  expect(runsOf(await lease(worker.workerId))).toEqual(["wrun_any_v1", "wrun_any_v2"]);
});
