/**
 * The local World shared by several real processes on one data directory: racing appends (exactly
 * one winner per expectedSeq, gap-free logs that agree with the projections), racing queue claims
 * (no message delivered twice), takeover of a SIGKILLed lease holder's run and messages at once,
 * cross-process notifications, a kill -9 in the middle of writing, concurrent first opens, a
 * process in another time namespace agreeing on lease expiry, and a process that never closes its
 * World still exiting. The children (`fixtures/local-child.mjs`)
 * run the compiled World from `dist/`; it is rebuilt here when the sources are newer.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newOwnerId } from "../../src/util/owner.ts";
import { nextNotification } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

const root = join(import.meta.dirname, "..", "..");
const childScript = join(import.meta.dirname, "fixtures", "local-child.mjs");
const compiled = join(root, "dist", "worlds", "local", "index.js");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

beforeAll(() => {
  const sources = ["errors", "util", "world", "worlds"].map((dir) => newestSource(join(root, "src", dir)));
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= Math.max(...sources)) return;
  try {
    execFileSync(
      process.execPath,
      [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: root,
        stdio: "pipe",
      },
    );
  } catch {
    // Type errors elsewhere in src/ do not stop tsc from emitting; the check below is what matters.
  }
  if (!existsSync(compiled)) throw new Error("Could not build dist/ (run `npm run build`).");
}, 120_000);

interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  waitFor(line: (text: string) => boolean, timeoutMs?: number): Promise<string>;
}

/** Children still running; a failed test kills them so none outlive it. */
const running = new Set<ChildProcess>();

/** Starts the child script with `args`, behind `wrapper` (a command that runs the rest) if given. */
function startChild(args: string[], wrapper: string[] = []): Child {
  const [file, ...prefix] = [...wrapper, process.execPath];
  const child = spawn(file as string, [...prefix, childScript, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  running.add(child);
  child.on("exit", () => running.delete(child));
  const lines: string[] = [];
  let stderr = "";
  let buffered = "";
  const waiters = new Set<() => void>();
  child.stdout?.on("data", (data: Buffer) => {
    buffered += data.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts.filter((part) => part.length > 0));
    for (const wake of waiters) wake();
  });
  child.stderr?.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) =>
      child.on("exit", (code, signal) => {
        for (const wake of waiters) wake();
        resolve({ code, signal, stderr });
      }),
  );
  return {
    process: child,
    lines,
    exited,
    waitFor(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              new Error(
                `child exited (${child.exitCode ?? child.signalCode}) without the expected line: ${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for the child; stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

async function result<T>(child: Child): Promise<T> {
  const { code, stderr } = await child.exited;
  if (code !== 0) throw new Error(`child failed with code ${code}: ${stderr}`);
  const last = child.lines[child.lines.length - 1];
  return JSON.parse(last ?? "null") as T;
}

/** Starts racing children and releases them together once all are ready. */
async function race(argsList: string[][]): Promise<Child[]> {
  const children = argsList.map((args) => startChild(args));
  await Promise.all(children.map((child) => child.waitFor((line) => line === "ready")));
  for (const child of children) child.process.stdin?.end("go\n");
  return children;
}

describe("local World across processes", () => {
  let dataDir: string;
  let world: World;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stepwise-mp-"));
    world = createLocalWorld({ dataDir });
  });
  afterEach(async () => {
    for (const child of running) child.kill("SIGKILL");
    await world.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function newRun(runId: string): Promise<void> {
    await world.runs.create({
      runId,
      workflowName: "mp",
      specVersion: 1,
      seed: "s",
      encrypted: false,
      input: new Uint8Array([1]),
    });
    await world.events.append({ runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] });
  }

  /** The log is 1..seq without gaps and agrees with the run row and the steps projection. */
  async function expectConsistent(runId: string): Promise<number> {
    const run = await world.runs.get(runId);
    const events = await world.events.list(runId);
    expect(events.map((event) => event.seq)).toEqual(
      Array.from({ length: run.seq }, (_, index) => index + 1),
    );
    const started = events.filter((event) => event.type === "step_started");
    const steps = await world.steps.list(runId);
    expect(steps.map((step) => step.stepId)).toEqual(
      started.map((event) => (event.data as { stepId: string }).stepId),
    );
    return started.length;
  }

  it("racing appends from three processes: one winner per expectedSeq, gap-free logs", async () => {
    const runIds = ["wrun_mp_a", "wrun_mp_b", "wrun_mp_c"];
    for (const runId of runIds) await newRun(runId);
    const children = await race(
      ["p1", "p2", "p3"].map((tag) => ["append", dataDir, runIds.join(","), "300", tag]),
    );
    const outcomes = await Promise.all(
      children.map((child) => result<{ wins: number; conflicts: number }>(child)),
    );
    const wins = outcomes.reduce((sum, outcome) => sum + outcome.wins, 0);
    const conflicts = outcomes.reduce((sum, outcome) => sum + outcome.conflicts, 0);
    expect(wins + conflicts).toBe(3 * 300 * runIds.length);
    expect(conflicts).toBeGreaterThan(0);
    let steps = 0;
    for (const runId of runIds) steps += await expectConsistent(runId);
    expect(steps).toBe(wins);
    const db = new Database(join(dataDir, "stepwise.db"), { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("racing claims from three processes never deliver a message twice", async () => {
    const runIds = Array.from({ length: 20 }, (_, index) => `wrun_mq_${index}`);
    for (const runId of runIds) await newRun(runId);
    await world.queue.enqueue(
      runIds.flatMap((runId) => Array.from({ length: 30 }, (_, index) => ({ runId, kind: `k${index}` }))),
    );
    const expected = new Set<string>();
    for (const runId of runIds)
      for (const message of await world.queue.list(runId)) expected.add(message.messageId);
    expect(expected.size).toBe(20 * 31);
    const children = await race(["c1", "c2", "c3"].map((tag) => ["claim", dataDir, tag]));
    const outcomes = await Promise.all(children.map((child) => result<{ claimed: string[] }>(child)));
    const claimed = outcomes.flatMap((outcome) => outcome.claimed);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(new Set(claimed)).toEqual(expected);
    expect(outcomes.filter((outcome) => outcome.claimed.length > 0).length).toBeGreaterThan(1);
    expect(await world.queue.nextAvailableAt()).toBeUndefined();
  });

  it("a SIGKILLed lease holder's run and messages are taken over at once", async () => {
    await newRun("wrun_mp_hold");
    const holder = startChild(["hold", dataDir, "wrun_mp_hold"]);
    const held = JSON.parse(await holder.waitFor((line) => line.startsWith("{"))) as {
      owner: string;
      acquired: boolean;
      claimed: string[];
    };
    expect(held.acquired).toBe(true);
    expect(held.claimed).toHaveLength(1);
    const me = newOwnerId();
    expect((await world.runs.acquire("wrun_mp_hold", me, 60_000)).acquired).toBe(false);
    expect(await world.queue.claim(me, { limit: 10, leaseMs: 60_000 })).toEqual([]);
    holder.process.kill("SIGKILL");
    expect((await holder.exited).signal).toBe("SIGKILL");
    const taken = await world.runs.acquire("wrun_mp_hold", me, 60_000);
    expect(taken.acquired).toBe(true);
    expect(taken.run.lease?.owner).toBe(me);
    const messages = await world.queue.claim(me, { limit: 10, leaseMs: 60_000 });
    expect(messages.map((message) => message.messageId)).toEqual(held.claimed);
    expect(messages[0]?.deliveries).toBe(2);
  });

  it("agrees on lease expiry with a process in a time namespace whose monotonic clock is far ahead", async () => {
    const shift = ["unshare", "--time", "--monotonic", "1000000", "--fork", "--kill-child"];
    const probe = spawnSync(shift[0] as string, [...shift.slice(1), "true"], { encoding: "utf8" });
    if (probe.error !== undefined || probe.status !== 0) {
      throw new Error(
        `This test needs \`unshare --time\` (Linux 5.6+, root) to shift a process's monotonic clock, and it failed: ${probe.error?.message ?? probe.stderr.trim()}`,
      );
    }
    const ourMonotonicMs = () => Number(process.hrtime.bigint() / 1_000_000n);
    // We hold a run: the shifted process, whose monotonic clock reads 1,000,000 s more than ours,
    // must not see our lease as long expired.
    await newRun("wrun_mp_ours");
    const me = newOwnerId();
    expect((await world.runs.acquire("wrun_mp_ours", me, 60_000)).acquired).toBe(true);
    expect(await world.queue.claim(me, { limit: 10, leaseMs: 60_000 })).toHaveLength(1);
    const thief = startChild(["hold", dataDir, "wrun_mp_ours"], shift);
    const tried = JSON.parse(await thief.waitFor((line) => line.startsWith("{"))) as {
      acquired: boolean;
      claimed: string[];
      monotonicMs: number;
    };
    expect(tried.monotonicMs - ourMonotonicMs()).toBeGreaterThan(999_000_000); // the shift is real
    expect(tried.acquired).toBe(false);
    expect(tried.claimed).toEqual([]);
    thief.process.kill("SIGKILL");
    await thief.exited;

    // It holds a run: its lease is not ours to take, and its expiry reads right on our clock.
    await newRun("wrun_mp_theirs");
    const holder = startChild(["hold", dataDir, "wrun_mp_theirs"], shift);
    const held = JSON.parse(await holder.waitFor((line) => line.startsWith("{"))) as { acquired: boolean };
    expect(held.acquired).toBe(true);
    expect((await world.runs.acquire("wrun_mp_theirs", newOwnerId(), 60_000)).acquired).toBe(false);
    const lease = (await world.runs.get("wrun_mp_theirs")).lease;
    expect(lease?.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    expect(lease?.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    holder.process.kill("SIGKILL");
    await holder.exited;
  });

  it("other processes' commits reach subscribers as { type: 'any' }", async () => {
    await newRun("wrun_mp_notify");
    const hint = nextNotification(world, (notification) => notification.type === "any", 10_000);
    const writer = startChild(["write", dataDir, "wrun_mp_notify"]);
    expect((await writer.exited).code).toBe(0);
    await hint.promise;
    expect((await world.runs.get("wrun_mp_notify")).seq).toBe(3);
  });

  it("a writer killed with SIGKILL mid-write leaves a consistent database", async () => {
    const writer = startChild(["crash-writer", dataDir]);
    await writer.waitFor((line) => line === "ready");
    await new Promise((resolve) => setTimeout(resolve, 400));
    writer.process.kill("SIGKILL");
    await writer.exited;
    const db = new Database(join(dataDir, "stepwise.db"), { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
    const { items } = await world.runs.list({ workflowName: "crash", limit: 1000 });
    expect(items.length).toBeGreaterThan(0);
    for (const run of items) {
      await expectConsistent(run.runId);
      // Appends were group-committed whole: a run has both events of each checkpoint or neither.
      expect(run.seq % 2).toBe(1);
    }
  });

  it("processes opening a fresh data directory at once all succeed", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "stepwise-mp-open-"));
    try {
      const children = Array.from({ length: 6 }, () => startChild(["open", fresh]));
      for (const child of children) {
        const { code, stderr } = await child.exited;
        expect(code, stderr).toBe(0);
      }
      const reopened = createLocalWorld({ dataDir: fresh });
      expect((await reopened.runs.list()).items).toEqual([]);
      await reopened.close();
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("a process that never closes its World still exits on its own", async () => {
    await newRun("wrun_mp_idle");
    const child = startChild(["idle", dataDir, "wrun_mp_idle"]);
    const timeout = setTimeout(() => child.process.kill("SIGKILL"), 15_000);
    const { code, signal } = await child.exited;
    clearTimeout(timeout);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(child.lines).toContain(JSON.stringify({ done: true }));
  });
});
