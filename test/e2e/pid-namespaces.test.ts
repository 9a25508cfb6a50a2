/**
 * Two worker processes on one local data directory, each in its own PID namespace (as two
 * containers sharing a volume and a hostname are), with pids that mean different things in each.
 * Neither may take the other for dead — its pid does not exist in the other's namespace — and
 * steal its leases: every step executes exactly once and every run stays with the worker that
 * took it. The test proves its setup: both workers report a different /proc/self/ns/pid, the same
 * hostname and different pids. It needs `unshare --pid` (root, as in CI) and FAILS without it.
 */
import { spawnSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import {
  executionsOf,
  type LeaseWorkload,
  makeLeaseWorkload,
  runsDrivenByMany,
} from "../helpers/lease-workload.ts";

const RUNS = 40;
const STEPS = 6;
const STEP_MS = 60;

let workload: LeaseWorkload;
let world: World | undefined;

beforeAll(() => {
  workload = makeLeaseWorkload();
});
afterAll(async () => {
  await world?.close();
  await workload?.remove();
});

/** Fails (never skips) when this machine cannot make PID namespaces. */
function requireUnshare(): void {
  const probe = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `This test needs \`unshare --pid --fork --mount-proc\` (util-linux, run as root or with CAP_SYS_ADMIN) to put workers in their own PID namespaces, and it failed: ${probe.error?.message ?? probe.stderr.trim()}`,
    );
  }
}

/**
 * Runs a command in a new PID namespace, after `burn` short-lived processes, so that its pid
 * there is about `burn + 2` (a shell stays as the namespace's init and reaps).
 */
const inPidNamespace =
  (burn: number) =>
  (command: string[]): string[] => [
    "unshare",
    "--pid",
    "--fork",
    "--mount-proc",
    "--kill-child",
    "sh",
    "-c",
    `i=0; while [ $i -lt ${burn} ]; do /bin/true; i=$((i+1)); done; "$0" "$@"`,
    ...command,
  ];

async function waitForAll(runIds: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open: string[] = [];
    for (const runId of runIds) {
      const run = await (world as World).runs.get(runId);
      if (run.status !== "completed") open.push(`${runId}: ${run.status}`);
    }
    if (open.length === 0 || Date.now() > deadline) return open;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("workers in different PID namespaces sharing a data directory and a hostname", () => {
  it("never take each other for dead: every step executes once, no run changes hands", async () => {
    requireUnshare();
    const dataDir = join(workload.project.dir, ".stepwise");
    const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: dataDir };
    world = createLocalWorld({ dataDir });
    const a = workload.startWorker({ env, maxActiveRuns: 25, wrap: inPidNamespace(3) });
    const b = workload.startWorker({ env, maxActiveRuns: 25, wrap: inPidNamespace(40) });
    const [probeA, probeB] = await Promise.all([
      a.waitFor((line) => line.probe === true),
      b.waitFor((line) => line.probe === true),
    ]);
    await Promise.all([a.waitFor((line) => line.ready === true), b.waitFor((line) => line.ready === true)]);
    console.log(`worker A: ${JSON.stringify(probeA)}; worker B: ${JSON.stringify(probeB)}`);
    // The fault is real: two PID namespaces (neither ours), one hostname, pids that differ.
    const ours = readlinkSync("/proc/self/ns/pid");
    expect(probeA.ns).not.toBe(probeB.ns);
    expect([probeA.ns, probeB.ns]).not.toContain(ours);
    expect(probeA.host).toBe(probeB.host);
    expect(probeA.pid).not.toBe(probeB.pid);

    const runIds = await workload.startRuns(env, RUNS, STEPS, STEP_MS);
    const open = await waitForAll(runIds, 60_000);
    const journal = workload.journal();
    const { counts, duplicates } = executionsOf(journal);
    const byWorker = new Map<string, number>();
    for (const entry of journal) byWorker.set(entry.ns, (byWorker.get(entry.ns) ?? 0) + 1);
    console.log(
      `${journal.length} step executions for ${RUNS * STEPS} steps; per namespace: ${JSON.stringify(Object.fromEntries(byWorker))}`,
    );
    expect(duplicates).toEqual([]);
    expect(runsDrivenByMany(journal)).toEqual([]);
    expect(open).toEqual([]);
    expect(counts.size).toBe(RUNS * STEPS);
    // Both workers did work side by side, so each had the chance to steal from the other.
    expect(byWorker.get(probeA.ns as string) ?? 0).toBeGreaterThan(0);
    expect(byWorker.get(probeB.ns as string) ?? 0).toBeGreaterThan(0);
    // And the log agrees: every step completed once, at its first attempt.
    for (const runId of runIds) {
      const events = await (world as World).events.list(runId);
      const started = events.filter((event) => event.type === "step_started");
      expect(started.every((event) => (event.data as { attempt: number }).attempt === 1)).toBe(true);
      expect(events.filter((event) => event.type === "step_completed")).toHaveLength(STEPS);
    }
  }, 120_000);
});
