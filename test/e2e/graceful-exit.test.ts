/**
 * A process with an in-process worker that exits gracefully lets the steps it is running finish
 * (recorded once, never run again) and hands its runs back, so the next worker goes on from there
 * without re-running side effects: Ctrl-C (SIGINT) during `npx stepwise start --wait`, SIGTERM to a
 * script awaiting a run, and a script that simply ends while a step runs. Steps write what they do
 * to a journal (one line per start and end, with the pid and the attempt) with appendFileSync, so
 * the journal is exact even about a process killed mid-step. Real processes, real signals, a real
 * SQLite file. (These tests load `dist/`: run `npm run build` first.)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, type Project, REGISTER, runNode, spawnNode } from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "workflows/jobs.ts": `
import { appendFileSync } from "node:fs";
import { getStepMetadata } from "stepwise-workflows";

function journal(what: string, label: string): void {
  const { attempt } = getStepMetadata();
  appendFileSync("journal.log", \`\${what} \${label} \${attempt} \${process.pid}\\n\`);
}

/** A step whose wait keeps the process alive (a ref'd timer). */
async function work(label: string, ms: number): Promise<string> {
  "use step";
  journal("start", label);
  await new Promise((resolve) => setTimeout(resolve, ms));
  journal("end", label);
  return label;
}

/** A step whose wait does not keep the process alive (an unref'd timer). */
async function quiet(label: string, ms: number): Promise<string> {
  "use step";
  journal("start", label);
  await new Promise((resolve) => setTimeout(resolve, ms).unref());
  journal("end", label);
  return label;
}

export async function two(tag: string, ms: number) {
  "use workflow";
  const a = await work(\`\${tag}-a\`, ms);
  const b = await work(\`\${tag}-b\`, 10);
  return [a, b];
}

export async function quietTwo(tag: string, ms: number) {
  "use workflow";
  const a = await quiet(\`\${tag}-a\`, ms);
  const b = await quiet(\`\${tag}-b\`, 10);
  return [a, b];
}
`,
  "await.ts": `
import { start } from "stepwise-workflows/api";
import { two } from "./workflows/jobs.ts";
const run = await start(two, [process.argv[2] ?? "x", Number(process.argv[3] ?? 1000)]);
console.log(run.runId);
console.log(JSON.stringify(await run.returnValue));
`,
  "fire.ts": `
import { start } from "stepwise-workflows/api";
import { quietTwo } from "./workflows/jobs.ts";
const run = await start(quietTwo, [process.argv[2] ?? "x", Number(process.argv[3] ?? 500)]);
console.log(run.runId);
`,
};

/** Each test on a data directory of its own, so no process meets another test's runs. */
const envFor = (tag: string) => ({ STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: `.stepwise-${tag}` });
let project: Project;
let cli: string;
beforeAll(() => {
  project = makeProject(FILES);
  cli = join(project.dir, "node_modules/stepwise-workflows/dist/cli/index.js");
});
afterAll(() => project.remove());

interface Entry {
  what: "start" | "end";
  label: string;
  attempt: number;
  pid: number;
}
function journal(tag: string): Entry[] {
  const file = join(project.dir, "journal.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([, label]) => label?.startsWith(`${tag}-`))
    .map(([what, label, attempt, pid]) => ({
      what: what as Entry["what"],
      label: label as string,
      attempt: Number(attempt),
      pid: Number(pid),
    }));
}
const lines = (entries: Entry[]) => entries.map((e) => `${e.what} ${e.label} ${e.attempt}`);

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function steps(tag: string, runId: string) {
  const result = await runNode([cli, "inspect", "steps", runId, "--json"], project.dir, envFor(tag));
  expect(result.code, result.stderr).toBe(0);
  return (
    JSON.parse(result.stdout) as { items: { stepName: string; status: string; attempt: number }[] }
  ).items.map((step) => [step.stepName.split("//").pop(), step.status, step.attempt]);
}

/** Runs a dedicated worker until `runId` completed; returns its result. */
async function finishElsewhere(tag: string, runId: string): Promise<unknown> {
  const env = envFor(tag);
  const worker = spawnNode([cli, "worker", "workflows/jobs.ts", "--quiet"], project.dir, env);
  try {
    return await until(`run ${runId} to complete`, async () => {
      const result = await runNode([cli, "inspect", "runs", runId, "--json"], project.dir, env);
      const [run] = JSON.parse(result.stdout).items as { status: string; output: unknown }[];
      return run?.status === "completed" ? run.output : undefined;
    });
  } finally {
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }
}

describe("a process that exits gracefully", () => {
  it("Ctrl-C during start --wait: the running step finishes and is recorded, the next step is left to the next worker", async () => {
    const waiting = spawnNode(
      [cli, "start", "two", '["ctrlc", 1200]', "--wait"],
      project.dir,
      envFor("ctrlc"),
    );
    await until("the first step to start", () => (journal("ctrlc").length > 0 ? true : undefined));
    // --wait shows its progress on stderr: "<runId> started", then what the run does.
    const runId = waiting.output.stderr.match(/(wrun_\w+) started/)?.[1] ?? "";
    expect(runId).not.toBe("");
    waiting.child.kill("SIGINT");
    await waiting.exited;
    expect(waiting.child.signalCode).toBe("SIGINT");
    expect(waiting.output.stderr).toContain(
      "SIGINT: letting 1 running step finish, then handing its run back",
    );
    const pid = waiting.child.pid;
    // The step in flight ran to its end in that process, and was recorded; the next one was not begun.
    expect(journal("ctrlc").map((e) => [e.what, e.label, e.pid])).toEqual([
      ["start", "ctrlc-a", pid],
      ["end", "ctrlc-a", pid],
    ]);
    expect(await steps("ctrlc", runId)).toEqual([["work", "completed", 1]]);

    expect(await finishElsewhere("ctrlc", runId)).toEqual(["ctrlc-a", "ctrlc-b"]);
    // Every step ran once, at attempt 1: nothing was run again.
    expect(lines(journal("ctrlc"))).toEqual([
      "start ctrlc-a 1",
      "end ctrlc-a 1",
      "start ctrlc-b 1",
      "end ctrlc-b 1",
    ]);
    expect(await steps("ctrlc", runId)).toEqual([
      ["work", "completed", 1],
      ["work", "completed", 1],
    ]);
  });

  it("a second Ctrl-C exits at once, leaving the step to run again elsewhere", async () => {
    const waiting = spawnNode(
      [cli, "start", "two", '["twice", 5000]', "--wait"],
      project.dir,
      envFor("twice"),
    );
    await until("the first step to start", () => (journal("twice").length > 0 ? true : undefined));
    waiting.child.kill("SIGINT");
    await until("the first signal to be taken", () =>
      waiting.output.stderr.includes("SIGINT:") ? true : undefined,
    );
    waiting.child.kill("SIGINT");
    expect(await waiting.exited).toBe(130);
    expect(waiting.output.stderr).toContain("SIGINT again: exiting now");
    expect(lines(journal("twice"))).toEqual(["start twice-a 1"]);
  });

  it("SIGTERM to a script awaiting its run: the running step finishes, the run is handed back", async () => {
    const script = spawnNode(["--import", REGISTER, "await.ts", "term", "1200"], project.dir, envFor("term"));
    await until("the first step to start", () => (journal("term").length > 0 ? true : undefined));
    script.child.kill("SIGTERM");
    await script.exited;
    expect(script.child.signalCode).toBe("SIGTERM");
    const runId = script.output.stdout.trim().split("\n")[0] ?? "";
    expect(lines(journal("term"))).toEqual(["start term-a 1", "end term-a 1"]);
    expect(await steps("term", runId)).toEqual([["work", "completed", 1]]);
    expect(await finishElsewhere("term", runId)).toEqual(["term-a", "term-b"]);
    expect(lines(journal("term"))).toEqual([
      "start term-a 1",
      "end term-a 1",
      "start term-b 1",
      "end term-b 1",
    ]);
  });

  it("a script that ends while a step runs lets it finish, records it, and hands the run back", async () => {
    // The step's own wait does not hold the process: the script's end used to cut it off.
    const script = await runNode(["--import", REGISTER, "fire.ts", "end", "400"], project.dir, envFor("end"));
    expect(script.code, script.stderr).toBe(0);
    const runId = script.stdout.trim();
    const pid = journal("end")[0]?.pid;
    expect(journal("end").map((e) => [e.what, e.label, e.attempt, e.pid])).toEqual([
      ["start", "end-a", 1, pid],
      ["end", "end-a", 1, pid],
    ]);
    expect(await steps("end", runId)).toEqual([["quiet", "completed", 1]]);
    expect(await finishElsewhere("end", runId)).toEqual(["end-a", "end-b"]);
    expect(lines(journal("end"))).toEqual(["start end-a 1", "end end-a 1", "start end-b 1", "end end-b 1"]);
  });
});
