/**
 * Crash recovery in real processes on the local World: a process driving a multi-step run is killed
 * with SIGKILL, again and again, each time while it is inside a step (its step journal — see
 * test/helpers/chaos/step-journal.ts — shows a step started and not finished); each new process
 * continues the run. The test requires at least 5 kills that interrupted a step, and checks that
 * every interrupted step ran again to its end in a later process, that steps whose completion was
 * recorded before a kill never execute again, that every completion is recorded exactly once, and
 * that a workflow's Math.random() and Date.now() replay identically after the kills.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { JOURNAL_FILES, type StepExecution, StepJournal } from "../helpers/chaos/step-journal.ts";
import { makeProject, type Project, REGISTER, spawnNode } from "../helpers/project.ts";

const STEPS = 40;
const MIN_KILLS_MID_STEP = 5;
const MAX_PROCESSES = 25;

const FILES: Record<string, string> = {
  ...JOURNAL_FILES,
  "workflows/pipeline.ts": `
import { getWritable, sleep } from "stepwise-workflows";
import { journaled } from "../journal.ts";

async function work(i: number): Promise<number> {
  "use step";
  return journaled(15, async () => {
    const writer = getWritable().getWriter();
    await writer.write(\`chunk \${i}\`);
    writer.releaseLock();
    return i * 2;
  });
}

async function remember(random: number, now: number): Promise<{ random: number; now: number }> {
  "use step";
  return journaled(5, () => ({ random, now }));
}

export async function pipeline(steps: number) {
  "use workflow";
  const random = Math.random();
  const now = Date.now();
  const remembered = await remember(random, now);
  let total = 0;
  for (let i = 0; i < steps; i++) total += await work(i);
  await sleep("10ms");
  return { total, random, now, remembered, after: Math.random() };
}
`,
  "start.ts": `
import { start } from "stepwise-workflows/api";
import { pipeline } from "./workflows/pipeline.ts";
const run = await start(pipeline, [${STEPS}]);
console.log(run.runId);
console.log(JSON.stringify(await run.returnValue));
`,
  "continue.ts": `
import { getRun } from "stepwise-workflows/api";
import "./workflows/pipeline.ts";
console.log(JSON.stringify(await getRun(process.argv[2]!).returnValue));
`,
};

let project: Project;
let world: World | undefined;

beforeAll(() => {
  project = makeProject(FILES);
});
afterAll(async () => {
  await world?.close();
  project.remove();
});

const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many times each step's completion is recorded in the run's log. */
async function completions(world: World, runId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const event of await world.events.list(runId)) {
    if (event.type === "step_completed")
      counts.set(event.data.stepId, (counts.get(event.data.stepId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Lets the process start 1–4 steps (at least `minimum`), then SIGKILLs it the next time the journal
 * shows it inside a step. Resolves to the step executions it had not finished when it died, or
 * undefined if it exited on its own first.
 */
async function killInsideStep(
  journal: StepJournal,
  proc: ReturnType<typeof spawnNode>,
  minimum = 1,
): Promise<StepExecution[] | undefined> {
  const pid = proc.child.pid ?? -1;
  const progress = Math.max(minimum, 1 + Math.floor(Math.random() * 4));
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited) return undefined;
    journal.refresh();
    const started = journal.started.filter((e) => e.pid === pid).length;
    if (started >= progress && journal.open(pid).length > 0) break;
    await pause(2);
  }
  proc.child.kill("SIGKILL");
  await proc.exited;
  journal.refresh();
  return journal.open(pid);
}

describe("SIGKILL in the middle of a run", () => {
  it("continues in a new process without re-running recorded steps or recording twice", async () => {
    const journal = new StepJournal(project.dir);
    let runId = "";
    let kills = 0;
    const interrupted: StepExecution[] = [];
    let landed = 0;
    let checkedRecorded = 0;
    let finalOutput = "";
    for (let attempt = 0; attempt < MAX_PROCESSES && finalOutput === ""; attempt++) {
      // What the log holds before the next process starts: these steps must never run again.
      const recorded = world ? new Set((await completions(world, runId)).keys()) : new Set<string>();
      const next =
        attempt === 0
          ? spawnNode(["--import", REGISTER, "start.ts"], project.dir, env)
          : spawnNode(["--import", REGISTER, "continue.ts", runId], project.dir, env);
      if (landed < MIN_KILLS_MID_STEP) {
        // The first process gets past its first step, so that a step is recorded before any
        // process starts again and the check below always has something to check (with 1–4 for
        // every process, all five kills could land in the first step: it happened once in CI).
        const cut = await killInsideStep(journal, next, attempt === 0 ? 2 : 1);
        if (cut !== undefined) {
          kills += 1;
          interrupted.push(...cut);
          if (cut.length > 0) landed += 1;
        }
      }
      const code = await next.exited;
      const lines = next.output.stdout.trim().split("\n");
      if (attempt === 0) {
        runId = lines.shift() ?? "";
        expect(runId).toMatch(/^wrun_/);
        world = createLocalWorld({ dataDir: join(project.dir, ".stepwise") });
      }
      // Recorded completions are still recorded once, and the steps behind them did not run again
      // in the process that just ended.
      const counts = await completions(world!, runId);
      for (const stepId of recorded) expect(counts.get(stepId)).toBe(1);
      journal.refresh();
      const ranAgain = journal.started.filter((e) => e.pid === next.child.pid && recorded.has(e.stepId));
      expect(ranAgain).toEqual([]);
      checkedRecorded += recorded.size;
      if (code === 0) finalOutput = lines.join("\n").trim();
    }
    expect(finalOutput, `the run did not finish within ${MAX_PROCESSES} processes`).not.toBe("");
    const result = JSON.parse(finalOutput) as {
      total: number;
      random: number;
      now: number;
      remembered: { random: number; now: number };
      after: number;
    };
    expect(result.total).toBe(STEPS * (STEPS - 1));
    // Math.random() and Date.now() gave the same values on every replay as on the first run.
    expect(result.remembered).toEqual({ random: result.random, now: result.now });

    const counts = await completions(world!, runId);
    expect(counts.size).toBe(STEPS + 1);
    for (const count of counts.values()) expect(count).toBe(1);
    const run = await world!.runs.get(runId);
    expect(run.status).toBe("completed");

    // The stream survived every crash: each step's chunk is there (a re-run step wrote it again).
    const stream = await world!.streams.read(runId, "default", { limit: 1000 });
    const codec = createPayloadCodec();
    const place = places.streamChunk("default");
    const chunks = stream.chunks.map((c) => decodeValue(codec.decode(run, place, c.data)) as string);
    expect(new Set(chunks)).toEqual(new Set(Array.from({ length: STEPS }, (_, i) => `chunk ${i}`)));

    // The kills landed inside steps, and every step they interrupted ran again, to its end, in a
    // later process; a step started more than once only where a kill cut it.
    expect(landed).toBeGreaterThanOrEqual(MIN_KILLS_MID_STEP);
    for (const cut of interrupted) {
      const finishers = journal.finished.filter((e) => e.stepId === cut.stepId && e.pid !== cut.pid);
      expect(finishers.length, `${cut.stepId}, interrupted in ${cut.pid}, never finished`).toBeGreaterThan(0);
    }
    const starts = new Map<string, number>();
    for (const e of journal.started) starts.set(e.stepId, (starts.get(e.stepId) ?? 0) + 1);
    expect(starts.size).toBe(STEPS + 1);
    const reruns = [...starts.values()].filter((n) => n > 1).length;
    expect(reruns).toBeLessThanOrEqual(kills);
    expect(reruns).toBeGreaterThanOrEqual(new Set(interrupted.map((e) => e.stepId)).size);
    expect(checkedRecorded).toBeGreaterThan(0);
    console.log(
      `kill test: ${kills} SIGKILLs, ${landed} inside a step (${interrupted.length} step executions interrupted, each re-run to its end later); ` +
        `${STEPS + 1} completions recorded once each; ${checkedRecorded} recorded steps checked not to re-run; ${reruns} step(s) started more than once`,
    );
  }, 120_000);
});
