/**
 * A worker that stops (`Worker.stop()`: a signal, the end of a script, a dedicated worker told to
 * go) lets its running steps finish, records them, and hands the run back without recording the
 * starts of steps it will not execute: the next worker calls those afresh and runs them at attempt
 * 1. Nothing runs twice. Also: a worker limited to some runs (`runIds`) drives those alone.
 * On a real SQLite file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, getWorld, shutdown, start } from "../../src/api/index.ts";
import { getStepMetadata } from "../../src/index.ts";
import { driveOnly, inProcessWorker } from "../../src/process/process.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

/** Steps wait on gates the test opens; every execution is recorded with its attempt. */
const gates = new Map<string, () => void>();
const executed: string[] = [];
const began = new Set<string>();
async function gated(label: string): Promise<string> {
  began.add(label);
  await new Promise<void>((resolve) => gates.set(label, resolve));
  executed.push(`${label}@${getStepMetadata().attempt}`);
  return label;
}
async function quick(label: string): Promise<string> {
  executed.push(`${label}@${getStepMetadata().attempt}`);
  return label;
}

const wf = defineWorkflows("test/stop.ts", {
  steps: { gated, quick },
  workflows: {
    sequence: ({ steps }) =>
      async function sequence(tag: string) {
        const a = await steps.gated(`${tag}-a`);
        return [a, await steps.quick(`${tag}-b`)];
      },
    fanned: ({ steps }) =>
      async function fanned(tag: string) {
        const [a, c] = await Promise.all([
          steps.gated(`${tag}-a`).then(async (a) => [a, await steps.quick(`${tag}-b`)]),
          steps.gated(`${tag}-c`),
        ]);
        return [a, c];
      },
  },
});

let dir: string;
let world: World;
beforeEach(() => {
  gates.clear();
  began.clear();
  executed.length = 0;
  dir = mkdtempSync(join(tmpdir(), "stepwise-stop-"));
  world = createLocalWorld({ dataDir: dir });
  configure({ world });
});
afterEach(async () => {
  delete process.env.STEPWISE_WORKER;
  for (const release of gates.values()) release(); // a failed test leaves no step waiting
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !probe(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!probe()) throw new Error(`timed out waiting for ${what}`);
}
const open = (label: string) => gates.get(label)?.();
const types = async (runId: string) =>
  (await world.events.list(runId)).map((event) =>
    "stepId" in event.data ? `${event.type}:${(event.data as { attempt?: number }).attempt}` : event.type,
  );

/** Shuts the process's runtime down and starts it again on the same World (a new process). */
async function nextProcess(): Promise<void> {
  await shutdown();
  world = createLocalWorld({ dataDir: dir });
  configure({ world });
}

describe("a worker that stops", () => {
  it("finishes the running step, records it, and leaves the next one unrecorded for the next worker", async () => {
    const run = await start(wf.sequence, ["seq"]);
    await until("step a to run", () => gates.has("seq-a"));
    const stopping = inProcessWorker()?.stop();
    open("seq-a");
    await stopping;
    expect(executed).toEqual(["seq-a@1"]);
    expect(await types(run.runId)).toEqual([
      "run_created",
      "run_started",
      "step_started:1",
      "step_completed:1",
    ]);
    expect((await world.runs.get(run.runId)).lease).toBeUndefined();

    await nextProcess();
    expect(await getRun(run.runId).returnValue).toEqual(["seq-a", "seq-b"]);
    expect(executed).toEqual(["seq-a@1", "seq-b@1"]);
  });

  it("records outcomes that come while it waits for other running steps, and never runs a step twice", async () => {
    const run = await start(wf.fanned, ["fan"]);
    await until("steps a and c to run", () => gates.has("fan-a") && gates.has("fan-c"));
    const stopping = inProcessWorker()?.stop();
    open("fan-a");
    // a's outcome is recorded while c still runs; b, called after it, is not begun.
    await until("a's completion to be recorded", () => executed.includes("fan-a@1"));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    const meanwhile = await types(run.runId);
    expect(meanwhile.filter((type) => type === "step_completed:1")).toHaveLength(1);
    expect(meanwhile.filter((type) => type.startsWith("step_started"))).toHaveLength(2);
    open("fan-c");
    await stopping;
    expect(executed.sort()).toEqual(["fan-a@1", "fan-c@1"]);

    await nextProcess();
    expect(await getRun(run.runId).returnValue).toEqual([["fan-a", "fan-b"], "fan-c"]);
    // b ran once; a and c were not run again.
    expect(executed.filter((entry) => entry.startsWith("fan-a") || entry.startsWith("fan-c")).sort()).toEqual(
      ["fan-a@1", "fan-c@1"],
    );
    expect(executed.filter((entry) => entry.startsWith("fan-b"))).toHaveLength(1);
  });
});

describe("a worker limited to some runs", () => {
  it("drives those runs and leaves every other run waiting", async () => {
    process.env.STEPWISE_WORKER = "0";
    const other = await start(wf.sequence, ["other"]);
    const mine = await start(wf.sequence, ["mine"]);
    await driveOnly([mine.runId]);
    await until("my step to run", () => gates.has("mine-a"));
    open("mine-a");
    expect(await getRun(mine.runId).returnValue).toEqual(["mine-a", "mine-b"]);
    // Long enough for a worker to have claimed the other run, had it wanted to.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(began.has("other-a")).toBe(false);
    // Its start message still waits, never claimed.
    expect((await (await getWorld()).queue.list(other.runId)).map((m) => [m.kind, m.deliveries])).toEqual([
      ["start", 0],
    ]);
    expect(await getRun(other.runId).status).toBe("pending");
  });
});
