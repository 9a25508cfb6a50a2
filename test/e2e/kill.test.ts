/**
 * Crash recovery in real processes on the local World: a process driving a multi-step run is killed
 * with SIGKILL, again and again, at random moments; each new process continues the run. Steps whose
 * completion was recorded before a kill never execute again, every completion is recorded exactly
 * once, and a workflow's Math.random() and Date.now() replay identically after the kills.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { makeProject, type Project, REGISTER, spawnNode } from "../helpers/project.ts";

const STEPS = 40;

const FILES: Record<string, string> = {
  "workflows/pipeline.ts": `
import { appendFileSync } from "node:fs";
import { getWritable, sleep } from "stepwise";

async function work(i: number): Promise<number> {
  "use step";
  appendFileSync("journal.log", \`\${i} \${process.pid}\\n\`);
  const writer = getWritable().getWriter();
  await writer.write(\`chunk \${i}\`);
  writer.releaseLock();
  await new Promise((resolve) => setTimeout(resolve, 15));
  return i * 2;
}

async function remember(random: number, now: number): Promise<{ random: number; now: number }> {
  "use step";
  return { random, now };
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
import { start } from "stepwise/api";
import { pipeline } from "./workflows/pipeline.ts";
const run = await start(pipeline, [${STEPS}]);
console.log(run.runId);
console.log(JSON.stringify(await run.returnValue));
`,
  "continue.ts": `
import { getRun } from "stepwise/api";
import "./workflows/pipeline.ts";
console.log(JSON.stringify(await getRun(process.argv[2]!).returnValue));
`,
};

let project: Project;
let world: World;

beforeAll(() => {
  project = makeProject(FILES);
});
afterAll(async () => {
  await world?.close();
  project.remove();
});

function journal(): { index: number; pid: number }[] {
  let text = "";
  try {
    text = readFileSync(join(project.dir, "journal.log"), "utf8");
  } catch {
    return [];
  }
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [index, pid] = line.split(" ");
      return { index: Number(index), pid: Number(pid) };
    });
}

const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" };

async function completedSteps(runId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const event of await world.events.list(runId)) {
    if (event.type === "step_completed")
      counts.set(event.data.stepId, (counts.get(event.data.stepId) ?? 0) + 1);
  }
  return counts;
}

describe("SIGKILL in the middle of a run", () => {
  it("continues in a new process without re-running recorded steps or recording twice", async () => {
    const first = spawnNode(["--import", REGISTER, "start.ts"], project.dir, env);
    // Wait for the run id and a few steps, then kill.
    for (let i = 0; i < 400 && journal().length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    first.child.kill("SIGKILL");
    await first.exited;
    const runId = first.output.stdout.trim().split("\n")[0] ?? "";
    expect(runId).toMatch(/^wrun_/);
    world = createLocalWorld({ dataDir: join(project.dir, ".stepwise") });

    let kills = 1;
    let checkedRecorded = 0;
    let finalOutput = "";
    for (let attempt = 0; attempt < 20; attempt++) {
      // What the log holds now, before the next process starts: these must never run again.
      const before = await world.events.list(runId);
      const run = await world.runs.get(runId);
      const recorded = new Set(before.filter((e) => e.type === "step_completed").map((e) => e.data.stepId));
      // The work index of each recorded step, from its recorded arguments.
      const codec = createPayloadCodec();
      const recordedIndices = new Set<number>();
      for (const e of before) {
        if (
          e.type === "step_started" &&
          e.data.attempt === 1 &&
          recorded.has(e.data.stepId) &&
          e.data.stepName.endsWith("//work")
        ) {
          const place = places.stepArgs(e.data.stepId);
          recordedIndices.add(
            (decodeValue(codec.decode(run, place, e.payload as Uint8Array)) as [number])[0],
          );
        }
      }
      const next = spawnNode(["--import", REGISTER, "continue.ts", runId], project.dir, env);
      const killAfter = 60 + Math.floor(Math.random() * 200);
      const timer = attempt < 3 ? setTimeout(() => next.child.kill("SIGKILL"), killAfter) : undefined;
      const code = await next.exited;
      if (timer) clearTimeout(timer);
      const after = await world.events.list(runId);
      // Recorded completions are still recorded once, and the steps behind them did not run again
      // in the process that just ended.
      const counts = new Map<string, number>();
      for (const e of after)
        if (e.type === "step_completed") counts.set(e.data.stepId, (counts.get(e.data.stepId) ?? 0) + 1);
      for (const stepId of recorded) expect(counts.get(stepId)).toBe(1);
      const ranAgain = journal().filter(
        (entry) => entry.pid === next.child.pid && recordedIndices.has(entry.index),
      );
      expect(ranAgain).toEqual([]);
      checkedRecorded += recordedIndices.size;
      if (code === 0) {
        finalOutput = next.output.stdout.trim();
        break;
      }
      kills += 1;
    }
    expect(finalOutput).not.toBe("");
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

    const counts = await completedSteps(runId);
    expect(counts.size).toBe(STEPS + 1);
    for (const count of counts.values()) expect(count).toBe(1);
    const run = await world.runs.get(runId);
    expect(run.status).toBe("completed");

    // The stream survived every crash: each step's chunk is there (a re-run step wrote it again).
    const stream = await world.streams.read(runId, "default", { limit: 1000 });
    const codec = createPayloadCodec();
    const place = places.streamChunk("default");
    const chunks = stream.chunks.map((c) => decodeValue(codec.decode(run, place, c.data)) as string);
    expect(new Set(chunks)).toEqual(new Set(Array.from({ length: STEPS }, (_, i) => `chunk ${i}`)));

    // Every work step ran at least once; a step ran twice only if a kill interrupted it.
    const entries = journal();
    const byIndex = new Map<number, number>();
    for (const entry of entries) byIndex.set(entry.index, (byIndex.get(entry.index) ?? 0) + 1);
    expect(byIndex.size).toBe(STEPS);
    const reruns = [...byIndex.values()].filter((n) => n > 1).length;
    expect(reruns).toBeLessThanOrEqual(kills);
    expect(checkedRecorded).toBeGreaterThan(0);
    console.log(
      `kill test: ${kills} SIGKILLs, ${STEPS + 1} completions recorded once each, ${checkedRecorded} recorded steps checked not to re-run, ${reruns} interrupted step(s) re-run`,
    );
  }, 120_000);
});
