/**
 * Payloads that are not what was written, in real processes on a real SQLite file with
 * STEPWISE_ENCRYPTION_KEY set (issue 10, items 1 and 2). Someone with write access to the database
 * replaces a step's encrypted result by a plain one, or swaps two results of one run: the worker
 * that replays the run refuses the payload — naming the run and the payload's place — leaves the
 * run as it was, and continues it once the data is restored. A hook payload encrypted under a key
 * the worker lacks is never recorded: the run waits, untouched, for a worker that has the key.
 * (These tests load `dist/`: run `npm run build`.)
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeValue } from "../../src/serde/codec.ts";
import { parseEncryptionKey } from "../../src/serde/keys.ts";
import { makeProject, type Project, REGISTER, runNode, spawnNode } from "../helpers/project.ts";

const KEY_A = randomBytes(32).toString("base64");
const KEY_B = randomBytes(32).toString("base64");
const ID_B = parseEncryptionKey(KEY_B, "k").id;

const FILES: Record<string, string> = {
  "workflows/pay.ts": `
import { createHook } from "stepwise-workflows";

async function price(sku: string): Promise<number> {
  "use step";
  return sku.length * 100;
}

async function fee(sku: string): Promise<number> {
  "use step";
  return 7;
}

export async function pay(sku: string, token: string) {
  "use workflow";
  const amount = await price(sku);
  const extra = await fee(sku);
  const approval = await createHook<{ by: string }>({ token });
  return { amount, extra, by: approval.by };
}
`,
  "start.ts": `
import { getHookByToken, start } from "stepwise-workflows/api";
import { pay } from "./workflows/pay.ts";

const [sku, token] = process.argv.slice(2);
const run = await start(pay, [sku, token]);
for (let i = 0; ; i++) {
  try {
    await getHookByToken(token);
    break;
  } catch (error) {
    if (i > 1000) throw error;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
console.log(run.runId);
`,
  "resume.ts": `
import { resumeHook } from "stepwise-workflows/api";

const [token, by] = process.argv.slice(2);
await resumeHook(token, { by });
console.log("resumed");
`,
};

let project: Project;
let dataDir = "";
let dirs = 0;
const workers: ReturnType<typeof spawnNode>[] = [];

beforeAll(() => {
  project = makeProject(FILES);
});
afterAll(() => project.remove());
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.child.kill("SIGKILL");
    await worker.exited;
  }
});

const env = (key: string, extra: Record<string, string> = {}): Record<string, string> => ({
  STEPWISE_WORLD: "local",
  STEPWISE_DATA_DIR: dataDir,
  STEPWISE_ENCRYPTION_KEY: key,
  ...extra,
});

/** Starts a run of `pay` with key A; it stops at its hook, with both step results recorded. */
async function startRun(sku: string, token: string): Promise<string> {
  dataDir = join(project.dir, `.data-${++dirs}`);
  const result = await runNode(["--import", REGISTER, "start.ts", sku, token], project.dir, env(KEY_A));
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split("\n").at(-1) ?? "";
}

async function resume(key: Record<string, string>, token: string, by: string): Promise<void> {
  const result = await runNode(["--import", REGISTER, "resume.ts", token, by], project.dir, {
    STEPWISE_WORKER: "0",
    ...key,
  });
  expect(result.code, result.stderr).toBe(0);
}

function startWorker(key: Record<string, string>): ReturnType<typeof spawnNode> {
  const worker = spawnNode(
    [join(project.dir, "node_modules/.bin/stepwise"), "worker", "workflows/pay.ts"],
    project.dir,
    key,
  );
  workers.push(worker);
  return worker;
}

function database(): Database.Database {
  return new Database(join(dataDir, "stepwise.db"));
}

interface StoredEvent {
  seq: number;
  type: string;
  data: string;
  payload: Buffer | null;
}

function events(runId: string): StoredEvent[] {
  const db = database();
  try {
    return db
      .prepare("SELECT seq, type, data, payload FROM events WHERE run_id = ? ORDER BY seq")
      .all(runId) as StoredEvent[];
  } finally {
    db.close();
  }
}

function setPayload(runId: string, seq: number, payload: Buffer): void {
  const db = database();
  try {
    db.prepare("UPDATE events SET payload = ? WHERE run_id = ? AND seq = ?").run(payload, runId, seq);
  } finally {
    db.close();
  }
}

function runStatus(runId: string): string {
  const db = database();
  try {
    return (db.prepare("SELECT status FROM runs WHERE run_id = ?").get(runId) as { status: string }).status;
  } finally {
    db.close();
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const completions = (runId: string) => events(runId).filter((event) => event.type === "step_completed");
const stepIdOf = (event: StoredEvent) => (JSON.parse(event.data) as { stepId: string }).stepId;
const output = (runId: string) => events(runId).find((event) => event.type === "run_completed");

describe("a payload replaced in the database", () => {
  it("a plain payload in an encrypted run is refused, naming run and place, and the run waits for the real one", async () => {
    const runId = await startRun("tea", "approve-forged");
    const [price] = completions(runId);
    expect(price?.payload?.[0]).toBe(0x03);
    const original = price?.payload as Buffer;
    // The forger writes the value they want, in clear.
    setPayload(runId, price?.seq ?? 0, Buffer.concat([Buffer.from([0x01]), Buffer.from(encodeValue(1))]));
    await resume(env(KEY_A), "approve-forged", "ada");
    const worker = startWorker(env(KEY_A));
    await until("the worker's refusal", () =>
      worker.output.stderr.includes(`run ${runId} holds a payload that fails authentication`)
        ? true
        : undefined,
    );
    expect(worker.output.stderr).toContain(
      `A payload of run ${runId} (the result of step ${stepIdOf(price as StoredEvent)}) is stored in clear, but the run was created with encryption on.`,
    );
    // Nothing was recorded past the forged value; the run is neither completed nor failed.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(output(runId)).toBeUndefined();
    expect(events(runId).some((event) => event.type === "run_failed")).toBe(false);
    expect(runStatus(runId)).toBe("running");
    // Said once, although the worker looked again.
    expect(worker.output.stderr.split(`run ${runId} holds a payload`).length - 1).toBe(1);

    // Restored from a backup: the run goes on, with the real value.
    setPayload(runId, price?.seq ?? 0, original);
    await until("the run's completion", () => output(runId), 70_000);
    expect(runStatus(runId)).toBe("completed");
  }, 120_000);

  it("two results of one run swapped are refused, naming the place", async () => {
    const runId = await startRun("coffee", "approve-swapped");
    const [price, fee] = completions(runId);
    expect(price && fee).toBeTruthy();
    setPayload(runId, price?.seq ?? 0, fee?.payload as Buffer);
    setPayload(runId, fee?.seq ?? 0, price?.payload as Buffer);
    await resume(env(KEY_A), "approve-swapped", "ada");
    const worker = startWorker(env(KEY_A));
    await until("the worker's refusal", () =>
      worker.output.stderr.includes(`run ${runId} holds a payload that fails authentication`)
        ? true
        : undefined,
    );
    expect(worker.output.stderr).toContain(
      `A payload of run ${runId} (the result of step ${stepIdOf(price as StoredEvent)}) (key id ${parseEncryptionKey(KEY_A, "k").id}) fails authentication: it was altered, damaged, or moved from another run or another place.`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(output(runId)).toBeUndefined();
    expect(runStatus(runId)).toBe("running");
  }, 120_000);
});

describe("a hook payload encrypted under a key the worker lacks", () => {
  it("is not recorded: the run waits, untouched, and a worker with the key delivers it once", async () => {
    const runId = await startRun("milk", "approve-rotated");
    const before = events(runId).length;
    // The client has rotated to key B (A kept to read); the worker still has only A.
    await resume(env(KEY_B, { STEPWISE_ENCRYPTION_OLD_KEYS: KEY_A }), "approve-rotated", "grace");
    const old = startWorker(env(KEY_A));
    await until("the worker's notice", () =>
      old.output.stderr.includes(`run ${runId} needs key id ${ID_B}`) ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // Nothing recorded, nothing failed: the payload waits in the inbox.
    expect(events(runId).length).toBe(before);
    expect(runStatus(runId)).toBe("running");
    const db = database();
    const waiting = db.prepare("SELECT count(*) AS n FROM inbox WHERE run_id = ?").get(runId) as {
      n: number;
    };
    db.close();
    expect(waiting.n).toBe(1);
    expect(old.output.stderr.split(`run ${runId} needs key id`).length - 1).toBe(1);

    // A worker that has the key takes it from there. Once it is up, the old one stops: while
    // both run, each time the old one claims the run first it defers it again, for twice as long
    // (up to a minute), so a run of bad luck under load could outlast any deadline.
    const current = startWorker(env(KEY_B, { STEPWISE_ENCRYPTION_OLD_KEYS: KEY_A }));
    await until("the new worker to start", () =>
      current.output.stderr.includes("stepwise worker") ? true : undefined,
    );
    old.child.kill("SIGTERM");
    await old.exited;
    const done = await until("the run's completion", () => output(runId), 70_000);
    expect(done.type).toBe("run_completed");
    const received = events(runId).filter((event) => event.type === "hook_received");
    expect(received).toHaveLength(1);
    expect(received[0]?.payload?.subarray(1, 9).toString("hex")).toBe(ID_B);
  }, 120_000);
});
