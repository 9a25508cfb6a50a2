// The scenarios every engine runs, written once against a small adapter so that each engine is
// started, timed and observed the same way. They run inside the engine's driver process.
//
// adapter = {
//   start(workflow, args) -> runId      workflow: "sequential" (n, key) | "fanout" (n, key) | "waitHook" (token, key)
//   status(runId) -> "done" | "failed" | "running"   the engine's own run-status read
//   hookReady(token) -> boolean          the run waits on its hook (DBOS: on recv)
//   resume(token, payload)               resumeHook / DBOS.send
// }
//
// Timing rules (the same for every engine):
// - every no-op step body calls globalThis.__benchStep(key, i): a performance.now() stamp taken in
//   the step itself, in this process;
// - a run's end is observed by polling the engine's own status read every 1 ms, starting when the
//   run's last step has stamped (so the polling never competes with the steps it measures); the
//   end time is the first poll that sees the run completed;
// - t0 is taken just before the start() call.
import { setTimeout as sleep } from "node:timers/promises";
import { withCpuProfile } from "../lib/profile.mjs";
import { median } from "../lib/stats.mjs";

const now = () => performance.now();
const runs = new Map(); // key -> { expected, times: [], runId, doneAt }
let keySeq = 0;
const newKey = (prefix) => `${prefix}${process.pid}-${++keySeq}`;

globalThis.__benchStep = (key, _i) => {
  const entry = runs.get(key);
  if (entry) entry.times.push(now());
};

function track(key, expected) {
  const entry = { key, expected, times: [], runId: undefined, doneAt: undefined };
  runs.set(key, entry);
  return entry;
}

/** Polls (every 1 ms) the status of each entry whose steps have all stamped, until all are done. */
async function awaitDone(adapter, entries, deadline) {
  const open = new Set(entries);
  while (open.size > 0) {
    if (now() > deadline) {
      const missing = [...open];
      const stepsSeen = missing.reduce((sum, e) => sum + e.times.length, 0);
      throw Object.assign(new Error(`${open.size} run(s) unfinished at the deadline`), {
        truncated: true,
        stepsSeen,
      });
    }
    const ready = [...open].filter((e) => e.runId !== undefined && e.times.length >= e.expected);
    for (let i = 0; i < ready.length; i += 64) {
      const batch = ready.slice(i, i + 64);
      const states = await Promise.all(batch.map((e) => adapter.status(e.runId)));
      const at = now();
      batch.forEach((e, j) => {
        if (states[j] === "failed") throw new Error(`run ${e.runId} failed`);
        if (states[j] === "done") {
          e.doneAt = at;
          open.delete(e);
        }
      });
    }
    if (open.size > 0) await sleep(1);
  }
}

async function waitFor(predicate, deadline, what, interval = 1) {
  while (!(await predicate())) {
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(interval);
  }
}

const gapsOf = (times) => times.slice(1).map((t, i) => t - times[i]);

/** One run of n steps (sequential or Promise.all fan-out). */
async function oneRun(adapter, workflow, { n, timeoutMs = 600_000 }) {
  const key = newKey(workflow[0]);
  const entry = track(key, n);
  const t0 = now();
  try {
    entry.runId = await adapter.start(workflow, [n, key]);
    await awaitDone(adapter, [entry], t0 + timeoutMs);
  } catch (error) {
    if (!error.truncated) throw error;
    const gaps = gapsOf(entry.times);
    return {
      n,
      truncated: true,
      stepsSeen: entry.times.length,
      elapsedMs: now() - t0,
      lateMs: median(gaps.slice(-19)),
      earlyMs: median(gaps.slice(0, 19)),
    };
  } finally {
    runs.delete(key);
  }
  const gaps = gapsOf(entry.times);
  return {
    n,
    totalMs: entry.doneAt - t0,
    perStepMs: (entry.doneAt - t0) / n,
    firstStepMs: entry.times[0] - t0,
    endMs: entry.doneAt - entry.times.at(-1),
    // Step-to-step gaps: steps 2-20 ("at step ~10") and the last 19 ("at step ~n").
    earlyMs: median(gaps.slice(0, 19)),
    lateMs: median(gaps.slice(-19)),
    medianGapMs: median(gaps),
  };
}

export function inProcessScenarios(adapter) {
  const scenarios = {
    /** Any scenario under the CPU profiler; the profile is written to `file`. */
    profile: ({ scenario, params, file }) => withCpuProfile(file, () => scenarios[scenario](params)),
    sequential: (p) => oneRun(adapter, "sequential", p),
    fanout: (p) => oneRun(adapter, "fanout", p),

    /** `runs` runs of `steps` sequential steps, all started at once. */
    async throughput({ runs: count, steps, timeoutMs = 600_000 }) {
      const entries = Array.from({ length: count }, () => track(newKey("t"), steps));
      const cpu0 = process.cpuUsage();
      const t0 = now();
      try {
        await Promise.all(
          entries.map(async (e) => {
            e.runId = await adapter.start("sequential", [steps, e.key]);
          }),
        );
        const startedMs = now() - t0;
        await awaitDone(adapter, entries, t0 + timeoutMs);
        const seconds = (Math.max(...entries.map((e) => e.doneAt)) - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        return {
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          runs: count,
          steps,
          seconds,
          startedMs,
          stepsPerSecond: (count * steps) / seconds,
          runsPerSecond: count / seconds,
        };
      } catch (error) {
        if (!error.truncated) throw error;
        return { runs: count, steps, truncated: true, stepsSeen: error.stepsSeen, elapsedMs: now() - t0 };
      } finally {
        for (const e of entries) runs.delete(e.key);
      }
    },

    /** Time from the start() call to the first step's body, for a one-step run. */
    async firstStep({ repeats, timeoutMs = 60_000 }) {
      const samples = [];
      for (let r = 0; r < repeats; r++) {
        const entry = track(newKey("f"), 1);
        const t0 = now();
        entry.runId = await adapter.start("sequential", [1, entry.key]);
        await awaitDone(adapter, [entry], t0 + timeoutMs);
        samples.push(entry.times[0] - t0);
        runs.delete(entry.key);
        await sleep(20);
      }
      return { medianMs: median(samples), samples };
    },

    /**
     * A run waits on a hook (DBOS: recv); once the engine reports it waiting, plus 100 ms to settle,
     * time from the resume call to the body of the step that follows the hook.
     */
    async hookResume({ repeats, timeoutMs = 60_000 }) {
      const samples = [];
      for (let r = 0; r < repeats; r++) {
        const entry = track(newKey("h"), 1);
        const token = `bench-hook-${entry.key}`;
        const deadline = now() + timeoutMs;
        entry.runId = await adapter.start("waitHook", [token, entry.key]);
        await waitFor(() => adapter.hookReady(token), deadline, `hook ${token}`);
        await sleep(100);
        const t0 = now();
        await adapter.resume(token, { v: r });
        await waitFor(() => entry.times.length > 0, deadline, "the step after the hook");
        samples.push(entry.times[0] - t0);
        await awaitDone(adapter, [entry], deadline);
        runs.delete(entry.key);
      }
      return { medianMs: median(samples), samples };
    },

    /** Heap and RSS held by `count` runs waiting on hooks (gc'd before and after). */
    async waitingMemory({ count, timeoutMs = 900_000 }) {
      const deadline = now() + timeoutMs;
      const settle = async () => {
        for (let i = 0; i < 3; i++) {
          global.gc?.();
          await sleep(50);
        }
      };
      await settle();
      const before = process.memoryUsage();
      const t0 = now();
      const tokens = [];
      let next = 0;
      const starter = async () => {
        while (next < count && now() < deadline) {
          const key = newKey("m");
          next++;
          const token = `bench-wait-${key}`;
          tokens.push(token);
          await adapter.start("waitHook", [token, key]);
        }
      };
      await Promise.all(Array.from({ length: 50 }, starter));
      const startedMs = now() - t0;
      let open = tokens;
      while (open.length > 0) {
        const still = [];
        for (let i = 0; i < open.length; i += 100) {
          if (now() > deadline) {
            // Out of time: report how many runs were started and seen waiting.
            const unseen = still.length + open.length - i;
            return {
              count,
              truncated: true,
              started: tokens.length,
              waiting: tokens.length - unseen,
              elapsedMs: now() - t0,
            };
          }
          const batch = open.slice(i, i + 100);
          const ok = await Promise.all(batch.map((t) => adapter.hookReady(t).catch(() => false)));
          batch.forEach((t, j) => {
            if (!ok[j]) still.push(t);
          });
        }
        open = still;
        if (open.length > 0) await sleep(50);
      }
      if (tokens.length < count)
        return {
          count,
          truncated: true,
          started: tokens.length,
          waiting: tokens.length,
          elapsedMs: now() - t0,
        };
      const waitingMs = now() - t0;
      await sleep(1_000);
      await settle();
      const after = process.memoryUsage();
      return {
        count,
        startedMs,
        waitingMs,
        heapBytesPerRun: (after.heapUsed - before.heapUsed) / count,
        rssBytesPerRun: (after.rss - before.rss) / count,
      };
    },
  };
  return scenarios;
}

/** Warm-up, excluded from every figure: JIT, caches, lazy initialisation of the engine. */
export async function warmUp(scenarios, { slow = false } = {}) {
  await scenarios.sequential({ n: slow ? 5 : 50 });
  await scenarios.fanout({ n: 10 });
  await scenarios.throughput({ runs: slow ? 5 : 50, steps: 2 });
  await scenarios.firstStep({ repeats: 2 });
  await scenarios.hookResume({ repeats: 1 });
}
