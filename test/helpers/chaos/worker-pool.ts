/**
 * A fixed number of `stepwise worker` processes for fault tests. `kill()` SIGKILLs one (with
 * `insideStep`, one the step journal shows inside a step), starts a replacement at once, and
 * reports — from the journal read after the process is gone — which step executions the kill
 * interrupted: a kill "landed mid-step" when that list is not empty. A worker that exits without
 * being killed by the test is replaced too, and recorded in `unexpectedExits` for the test to fail on.
 */
import type { spawnNode } from "../project.ts";
import type { Fault } from "./chaos-run.ts";
import type { StepExecution, StepJournal } from "./step-journal.ts";

type Spawned = ReturnType<typeof spawnNode>;

interface PoolWorker {
  spawned: Spawned;
  pid: number;
  killed: boolean;
}

/** One SIGKILL: the process, and the step executions it had started and not finished when it died. */
export interface KillReport {
  pid: number;
  interrupted: StepExecution[];
}

/** A worker that exited although nobody killed it. */
export interface UnexpectedExit {
  pid: number;
  code: number | null;
  stderr: string;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class WorkerPool {
  readonly kills: KillReport[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  readonly #spawnWorker: () => Spawned;
  readonly #journal: StepJournal;
  #workers: PoolWorker[] = [];
  #stopping = false;

  /** Starts `size` workers with `spawnWorker` (each must print its "stepwise worker …" banner). */
  constructor(spawnWorker: () => Spawned, journal: StepJournal, size: number) {
    this.#spawnWorker = spawnWorker;
    this.#journal = journal;
    for (let i = 0; i < size; i++) this.#workers.push(this.#spawn());
  }

  #spawn(): PoolWorker {
    const spawned = this.#spawnWorker();
    const worker: PoolWorker = { spawned, pid: spawned.child.pid ?? -1, killed: false };
    void spawned.exited.then((code) => {
      if (worker.killed || this.#stopping) return;
      this.unexpectedExits.push({ pid: worker.pid, code, stderr: spawned.output.stderr.slice(-2000) });
      this.#replace(worker);
    });
    return worker;
  }

  #replace(worker: PoolWorker): void {
    const index = this.#workers.indexOf(worker);
    if (index >= 0 && !this.#stopping) this.#workers[index] = this.#spawn();
  }

  /** Workers that finished starting (printed their banner) and were not killed. */
  #ready(): PoolWorker[] {
    return this.#workers.filter((w) => !w.killed && w.spawned.output.stderr.includes("stepwise worker "));
  }

  /** The step executions live workers are inside right now, per the journal. */
  openSteps(): StepExecution[] {
    this.#journal.refresh();
    return this.#ready().flatMap((w) => this.#journal.open(w.pid));
  }

  /** Waits (polling the journal) until some live worker is inside a step; [] after `timeoutMs`. */
  async waitForOpenSteps(timeoutMs: number): Promise<StepExecution[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const open = this.openSteps();
      if (open.length > 0 || Date.now() > deadline) return open;
      await pause(10);
    }
  }

  /**
   * SIGKILLs a worker and replaces it. With `insideStep`, the victim is one the journal shows inside
   * a step (waiting up to `timeoutMs` for one; undefined if none was); otherwise any started worker,
   * at whatever it is doing. The report says, from the journal read after the process is gone, which
   * step executions the kill interrupted.
   */
  async kill(options: { insideStep: boolean; timeoutMs: number }): Promise<KillReport | undefined> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      this.#journal.refresh();
      const ready = this.#ready();
      const candidates = options.insideStep
        ? ready.filter((w) => this.#journal.open(w.pid).length > 0)
        : ready;
      const victim = candidates[Math.floor(Math.random() * candidates.length)];
      if (victim !== undefined) return this.#killNow(victim);
      if (Date.now() > deadline) return undefined;
      await pause(10);
    }
  }

  async #killNow(victim: PoolWorker): Promise<KillReport> {
    victim.killed = true;
    victim.spawned.child.kill("SIGKILL");
    this.#replace(victim);
    await victim.spawned.exited;
    this.#journal.refresh();
    const report = { pid: victim.pid, interrupted: this.#journal.open(victim.pid) };
    this.kills.push(report);
    return report;
  }

  /** SIGTERMs every worker (they finish their steps and hand runs back) and waits for them. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const worker of this.#workers) worker.spawned.child.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const worker of this.#workers) worker.spawned.child.kill("SIGKILL");
    }, 15_000);
    await Promise.all(this.#workers.map((w) => w.spawned.exited));
    clearTimeout(timer);
  }
}

/**
 * The SIGKILL fault of the chaos tests: mostly kills aimed at a worker inside a step, sometimes
 * (`randomShare` of the tries) a kill at whatever a worker is doing — replaying, checkpointing,
 * idle. Only kills that interrupted a step execution count towards `quota`.
 */
export function killFault(pool: WorkerPool, quota: number, randomShare = 0.25): Fault {
  return {
    name: "SIGKILLs inside a step",
    quota,
    gapMs: [200, 700],
    fire: async () => {
      const report = await pool.kill({ insideStep: Math.random() >= randomShare, timeoutMs: 5_000 });
      return report !== undefined && report.interrupted.length > 0 ? 1 : 0;
    },
  };
}
