/**
 * A workload for tests of lease safety between real worker processes: a project whose workflow
 * runs sequential steps that each record their execution in a journal (label, pid, PID namespace,
 * clock offset), a dedicated worker script (`worker.ts <maxActiveRuns>`), and a preload
 * (`probe.mjs`, loaded with `node --import`) that prints the process's identity at start and,
 * on SIGUSR2, moves `Date.now()` and `new Date()` three hours ahead — what an NTP step looks like
 * to Node (timers and the monotonic clock are not affected). The checks a test makes on the
 * journal are here too: every step executed exactly once, and every run driven by one process.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { makeProject, type Project, REGISTER, REPO, runNode } from "./project.ts";

/** How far SIGUSR2 moves a probed process's wall clock. */
export const JUMP_MS = 3 * 60 * 60 * 1000;

const FILES: Record<string, string> = {
  "probe.mjs": `
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";
// Installed before anything else loads, so that every later reader of the clock (including code
// that keeps a reference to Date.now) sees the jump, as it would after an NTP step.
const RealDate = globalThis.Date;
const realNow = RealDate.now.bind(RealDate);
let offset = 0;
class ProbedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(realNow() + offset);
    else super(...args);
  }
  static now() {
    return realNow() + offset;
  }
}
globalThis.Date = ProbedDate;
const ns = (() => { try { return readlinkSync("/proc/self/ns/pid"); } catch { return "unknown"; } })();
globalThis.__probe = { ns, offset: () => offset };
process.on("SIGUSR2", () => {
  offset += ${JUMP_MS};
  console.log(JSON.stringify({ jumped: offset, pid: process.pid, now: Date.now(), real: realNow() }));
});
console.log(JSON.stringify({ probe: true, pid: process.pid, ns, host: hostname() }));
`,
  "workflows/jobs.ts": `
import { appendFileSync } from "node:fs";

async function work(label: string, ms: number): Promise<string> {
  "use step";
  await new Promise((resolve) => setTimeout(resolve, ms));
  const probe = (globalThis as { __probe?: { ns: string } }).__probe;
  // The wall clock's offset from the monotonic one: 0 until the clock jumps.
  const offset = Math.round(Date.now() - (performance.timeOrigin + performance.now()));
  appendFileSync(
    "journal.log",
    JSON.stringify({ label, pid: process.pid, ns: probe?.ns ?? "unknown", offset }) + "\\n",
  );
  return label;
}

export async function job(id: string, steps: number, ms: number) {
  "use workflow";
  const labels: string[] = [];
  for (let i = 0; i < steps; i++) labels.push(await work(\`\${id}:\${i}\`, ms));
  return labels;
}
`,
  "worker.ts": `
import { getWorld } from "stepwise-workflows/api";
import { Worker } from ${JSON.stringify(join(REPO, "dist", "runtime", "worker.js"))};
import { getPayloadCodec } from ${JSON.stringify(join(REPO, "dist", "process", "process.js"))};
import "./workflows/jobs.ts";

const world = await getWorld();
const worker = new Worker({
  world,
  payloads: getPayloadCodec(),
  maxActiveRuns: Number(process.argv[2] ?? 256),
  warn: (message, error) => console.error(\`[worker \${process.pid}] \${message}\`, error ?? ""),
});
worker.start();
console.log(JSON.stringify({ ready: true, pid: process.pid, owner: worker.owner }));
setInterval(() => {}, 1 << 30);
process.on("SIGTERM", () => {
  void worker.stop().then(async () => {
    await world.close();
    process.exit(0);
  });
});
`,
  "start.ts": `
import { start } from "stepwise-workflows/api";
import { job } from "./workflows/jobs.ts";
const [count, steps, ms] = process.argv.slice(2, 5).map(Number);
const prefix = process.argv[5] ?? "job";
const ids = [];
for (let i = 0; i < count!; i++) ids.push((await start(job, [\`\${prefix}-\${i}\`, steps!, ms!])).runId);
console.log(JSON.stringify(ids));
`,
};

export interface JournalEntry {
  label: string;
  pid: number;
  ns: string;
  offset: number;
}

export interface WorkerProcess {
  /** Every JSON line the process printed on stdout, parsed. */
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the first line that matches, once printed (the probe's: `{ probe, pid, ns, host }`). */
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a signal to the Node process itself (not to a wrapper such as unshare). */
  signal(signal: NodeJS.Signals): void;
  kill(): Promise<void>;
}

export interface LeaseWorkload {
  project: Project;
  /**
   * Starts `worker.ts` with the probe, optionally behind a wrapper command (e.g. `unshare … sh -c`):
   * `wrap` receives the node command line and returns the argv to spawn.
   */
  startWorker(options: {
    env: Record<string, string>;
    maxActiveRuns: number;
    wrap?: (command: string[]) => string[];
  }): WorkerProcess;
  /**
   * Starts `count` runs of `steps` steps of `ms` each from a client process; returns their ids.
   * Their steps are labelled `<prefix>-<i>:<step>` (prefix "job" by default).
   */
  startRuns(
    env: Record<string, string>,
    count: number,
    steps: number,
    ms: number,
    prefix?: string,
  ): Promise<string[]>;
  journal(): JournalEntry[];
  remove(): Promise<void>;
}

export function makeLeaseWorkload(): LeaseWorkload {
  const project = makeProject(FILES);
  const workers: WorkerProcess[] = [];
  return {
    project,
    startWorker({ env, maxActiveRuns, wrap }) {
      const command = [
        process.execPath,
        "--import",
        "./probe.mjs",
        "--import",
        REGISTER,
        "worker.ts",
        String(maxActiveRuns),
      ];
      const [file, ...args] = wrap ? wrap(command) : command;
      const child = spawn(file as string, args, {
        cwd: project.dir,
        env: { ...process.env, ...env, STEPWISE_WORKER: "0" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const lines: Record<string, unknown>[] = [];
      let stderr = "";
      let buffered = "";
      const waiters = new Set<() => void>();
      child.stdout.on("data", (data: Buffer) => {
        buffered += data.toString();
        const parts = buffered.split("\n");
        buffered = parts.pop() ?? "";
        for (const part of parts) {
          try {
            lines.push(JSON.parse(part) as Record<string, unknown>);
          } catch {
            // Not one of ours (the runtime's own notes go to stderr, but be lenient).
          }
        }
        for (const wake of waiters) wake();
      });
      child.stderr.on("data", (data: Buffer) => {
        stderr += data.toString();
      });
      const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
      const worker: WorkerProcess = {
        lines,
        stderr: () => stderr,
        waitFor(match, timeoutMs = 30_000) {
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
                reject(new Error(`the worker exited (${child.exitCode ?? child.signalCode}): ${stderr}`));
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              reject(new Error(`timed out waiting for a line from the worker; stderr: ${stderr}`));
            }, timeoutMs);
            waiters.add(check);
            child.on("close", check);
            check();
          });
        },
        signal(signal) {
          if (!wrap) {
            child.kill(signal);
            return;
          }
          // Behind a wrapper the Node process is a descendant, and in another PID namespace its
          // own pid differs from ours for it: find it through /proc by its probe line.
          process.kill(hostPidOf(lines.find((line) => line.probe === true)), signal);
        },
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited;
        },
      };
      workers.push(worker);
      return worker;
    },
    async startRuns(env, count, steps, ms, prefix = "job") {
      const result = await runNode(
        ["--import", REGISTER, "start.ts", String(count), String(steps), String(ms), prefix],
        project.dir,
        { ...env, STEPWISE_WORKER: "0" },
      );
      if (result.code !== 0) throw new Error(`starting runs failed: ${result.stderr}`);
      return JSON.parse(result.stdout) as string[];
    },
    journal() {
      const file = join(project.dir, "journal.log");
      if (!existsSync(file)) return [];
      return readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as JournalEntry);
    },
    async remove() {
      await Promise.all(workers.map((worker) => worker.kill()));
      project.remove();
    },
  };
}

/** The pid, as this process sees it, of the process whose probe reported `pid` in namespace `ns`. */
function hostPidOf(probe: Record<string, unknown> | undefined): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== probe?.ns) continue;
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
      if (nspid[nspid.length - 1] === probe?.pid) return Number(entry);
    } catch {
      // The process ended meanwhile, or is not ours to read.
    }
  }
  throw new Error(`no process with pid ${String(probe?.pid)} in ${String(probe?.ns)}`);
}

/** For each step label, how many times it executed; and the labels executed more than once. */
export function executionsOf(entries: readonly JournalEntry[]): {
  counts: Map<string, number>;
  duplicates: string[];
} {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.label, (counts.get(entry.label) ?? 0) + 1);
  const duplicates = [...counts]
    .filter(([, count]) => count > 1)
    .map(([label, count]) => `${label} ×${count}`);
  return { counts, duplicates };
}

/** Runs whose steps were executed by more than one process (a lease changed hands mid-run). */
export function runsDrivenByMany(entries: readonly JournalEntry[]): string[] {
  const byRun = new Map<string, Set<string>>();
  for (const entry of entries) {
    const run = entry.label.split(":")[0] ?? "";
    const drivers = byRun.get(run) ?? new Set<string>();
    drivers.add(`${entry.ns}/${entry.pid}`);
    byRun.set(run, drivers);
  }
  return [...byRun]
    .filter(([, drivers]) => drivers.size > 1)
    .map(([run, drivers]) => `${run}: ${[...drivers].join(", ")}`);
}
