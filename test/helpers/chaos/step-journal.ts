/**
 * A journal of step executions kept outside the World, so that a fault test can tell from evidence
 * what a process was doing when it died. Test projects get `journal.ts` (`JOURNAL_FILES`): a step
 * wraps its body in `journaled(ms, body)`, which appends
 * `started <runId> <stepId> <attempt> <pid> <epoch ms>` to `journal/<pid>.log`, waits `ms` (so that kills can land inside the step), runs the body and
 * appends `finished …` (also when the body throws: the execution ended). Each line is one `appendFileSync` (one write(2), in the kernel before the
 * next line of JavaScript runs), so a SIGKILL cannot lose a line that was written. A process that
 * died with a started-but-unfinished line was killed inside step execution.
 *
 * `StepJournal` reads the files from the test process, incrementally (only whole lines).
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";

/** The module test projects import in their steps, and the directory it writes to. */
export const JOURNAL_FILES: Record<string, string> = {
  "journal/.keep": "",
  "journal.ts": `
import { appendFileSync } from "node:fs";
import { getStepMetadata, getWorkflowMetadata } from "stepwise-workflows";

/** Runs a step body between "started" and "finished" lines in journal/<pid>.log, after ms milliseconds. */
export async function journaled<T>(ms: number, body: () => T | Promise<T>): Promise<T> {
  const { stepId, attempt } = getStepMetadata();
  const what = \`\${getWorkflowMetadata().runId} \${stepId} \${attempt} \${process.pid}\`;
  const file = \`journal/\${process.pid}.log\`;
  appendFileSync(file, \`started \${what} \${Date.now()}\\n\`);
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return await body();
  } finally {
    appendFileSync(file, \`finished \${what} \${Date.now()}\\n\`);
  }
}
`,
};

/** One execution of a step attempt by one process. */
export interface StepExecution {
  runId: string;
  stepId: string;
  attempt: number;
  pid: number;
  /** When the line was written (the process's wall clock, ms). */
  at: number;
}

interface ProcessJournal {
  offset: number;
  /** Started and not finished, per `runId stepId attempt` (a process may run one attempt twice). */
  open: Map<string, StepExecution[]>;
}

const key = (e: StepExecution): string => `${e.runId} ${e.stepId} ${e.attempt}`;

/** Reads the journals a project's processes wrote. Call `refresh()` to take in new lines. */
export class StepJournal {
  readonly #dir: string;
  readonly #processes = new Map<number, ProcessJournal>();
  /** Every `started` line, in the order read. */
  readonly started: StepExecution[] = [];
  /** Every `finished` line, in the order read. */
  readonly finished: StepExecution[] = [];

  constructor(projectDir: string) {
    this.#dir = join(projectDir, "journal");
  }

  /** Reads the lines appended since the last call, in every process's file. */
  refresh(): void {
    if (!existsSync(this.#dir)) return;
    for (const name of readdirSync(this.#dir)) {
      const match = /^(\d+)\.log$/.exec(name);
      if (match === null) continue;
      const pid = Number(match[1]);
      let journal = this.#processes.get(pid);
      if (journal === undefined) {
        journal = { offset: 0, open: new Map() };
        this.#processes.set(pid, journal);
      }
      this.#readNew(join(this.#dir, name), journal);
    }
  }

  #readNew(file: string, journal: ProcessJournal): void {
    const fd = openSync(file, "r");
    try {
      const size = fstatSync(fd).size;
      if (size <= journal.offset) return;
      const buffer = Buffer.alloc(size - journal.offset);
      const read = readSync(fd, buffer, 0, buffer.length, journal.offset);
      const text = buffer.subarray(0, read).toString("utf8");
      const end = text.lastIndexOf("\n");
      if (end < 0) return;
      journal.offset += Buffer.byteLength(text.slice(0, end + 1));
      for (const line of text.slice(0, end).split("\n")) this.#take(line, journal);
    } finally {
      closeSync(fd);
    }
  }

  #take(line: string, journal: ProcessJournal): void {
    const [what, runId, stepId, attempt, pid, at] = line.split(" ");
    if ((what !== "started" && what !== "finished") || !runId || !stepId) {
      throw new Error(`unreadable step journal line: ${JSON.stringify(line)}`);
    }
    const execution = { runId, stepId, attempt: Number(attempt), pid: Number(pid), at: Number(at) };
    const k = key(execution);
    const open = journal.open.get(k) ?? [];
    if (what === "started") {
      this.started.push(execution);
      journal.open.set(k, [...open, execution]);
    } else {
      this.finished.push(execution);
      if (open.length <= 1) journal.open.delete(k);
      else journal.open.set(k, open.slice(1));
    }
  }

  /** The step executions `pid` has started and not finished (as of the last `refresh()`). */
  open(pid: number): StepExecution[] {
    const journal = this.#processes.get(pid);
    if (journal === undefined) return [];
    return [...journal.open.values()].flat();
  }
}
