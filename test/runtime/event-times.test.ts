/**
 * Event times are the times things happened. A run's log is stamped with the wall clock when each
 * event is written, never going back, while the workflow keeps its deterministic clock: it sees
 * the time its last outcome was recorded at, on the first execution and on every replay. Before,
 * events the workflow caused (a step's start, a sleep, a hook) were stamped with that
 * deterministic clock, so a run picked up late showed its first step starting before
 * `run_started`, lasting as long as the run had waited. These tests run on a real SQLite file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, shutdown, start } from "../../src/api/index.ts";
import { getStepMetadata } from "../../src/index.ts";
import type { EventRecord } from "../../src/world/events.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

/** One execution of a step, as the step itself saw it. */
interface Execution {
  label: string;
  attempt: number;
  began: number;
  ended: number;
}
const executions: Execution[] = [];

async function busy(label: string): Promise<string> {
  const began = Date.now();
  const { attempt } = getStepMetadata();
  await new Promise((resolve) => setTimeout(resolve, 30));
  executions.push({ label, attempt, began, ended: Date.now() });
  return label;
}

const flaky = Object.assign(
  async (label: string): Promise<string> => {
    const began = Date.now();
    const { attempt } = getStepMetadata();
    await new Promise((resolve) => setTimeout(resolve, 10));
    executions.push({ label, attempt, began, ended: Date.now() });
    if (attempt < 3) throw new Error(`attempt ${attempt} fails`);
    return label;
  },
  { retries: { delay: "20ms", backoff: "constant" as const } },
);

const wf = defineWorkflows("test/event-times.ts", {
  steps: { busy, flaky },
  workflows: {
    timed: ({ steps, api }) =>
      async function timed() {
        const seen: number[] = [Date.now()];
        await steps.busy("a");
        seen.push(Date.now());
        await steps.flaky("f");
        seen.push(Date.now());
        await api.sleep(50);
        seen.push(Date.now());
        await steps.busy("b");
        seen.push(Date.now());
        return seen;
      },
  },
});

let dir: string;
let world: World;
beforeEach(() => {
  executions.length = 0;
  dir = mkdtempSync(join(tmpdir(), "stepwise-event-times-"));
  world = createLocalWorld({ dataDir: dir });
  configure({ world });
});
afterEach(async () => {
  delete process.env.STEPWISE_WORKER;
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const stepEvents = (events: EventRecord[], stepId: string) =>
  events.filter((event) => "stepId" in event.data && event.data.stepId === stepId);

describe("event times", () => {
  it("are the times things happened: in order, after run_started, bracketing each attempt", async () => {
    // The run waits 300 ms before a worker picks it up, as a run started by a client does.
    process.env.STEPWISE_WORKER = "0";
    const run = await start(wf.timed, []);
    await new Promise((resolve) => setTimeout(resolve, 300));
    delete process.env.STEPWISE_WORKER;
    const seen = await getRun<number[]>(run.runId).returnValue;

    const events = await world.events.list(run.runId);
    const times = events.map((event) => event.createdAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const created = events[0] as EventRecord;
    const started = events.find((event) => event.type === "run_started") as EventRecord;
    expect(started.createdAt - created.createdAt).toBeGreaterThanOrEqual(300);

    const steps = await world.steps.list(run.runId);
    expect(steps.map((step) => [step.stepName.split("//").pop(), step.status, step.attempt])).toEqual([
      ["busy", "completed", 1],
      ["flaky", "completed", 3],
      ["busy", "completed", 1],
    ]);
    // Each attempt's step_started is written before it executes, its outcome after it ends, and the
    // attempt numbers are those the step saw.
    expect(executions.map((execution) => [execution.label, execution.attempt])).toEqual([
      ["a", 1],
      ["f", 1],
      ["f", 2],
      ["f", 3],
      ["b", 1],
    ]);
    for (const [index, step] of steps.entries()) {
      const label = ["a", "f", "b"][index];
      const own = stepEvents(events, step.stepId);
      const attempts = executions.filter((execution) => execution.label === label);
      const starts = own.filter((event) => event.type === "step_started");
      const ends = own.filter((event) => event.type !== "step_started");
      expect(starts.map((event) => (event.data as { attempt: number }).attempt)).toEqual(
        attempts.map((execution) => execution.attempt),
      );
      expect(ends.map((event) => event.type)).toEqual(
        label === "f" ? ["step_retrying", "step_retrying", "step_completed"] : ["step_completed"],
      );
      attempts.forEach((execution, k) => {
        expect(starts[k]?.createdAt).toBeGreaterThanOrEqual(started.createdAt);
        expect(starts[k]?.createdAt).toBeLessThanOrEqual(execution.began);
        expect(ends[k]?.createdAt).toBeGreaterThanOrEqual(execution.ended);
      });
      // The step's record spans its last attempt, not the time the run waited for a worker.
      const last = attempts[attempts.length - 1] as Execution;
      expect(step.startedAt).toBe(starts[starts.length - 1]?.createdAt);
      expect(step.startedAt).toBeLessThanOrEqual(last.began);
      expect(step.completedAt).toBeGreaterThanOrEqual(last.ended);
    }

    // The workflow's clock is deterministic: it started at the run's creation and then saw the
    // recorded time of each outcome it awaited, which is what a replay gives it too.
    const delivered = events.filter((event) => ["step_completed", "wait_completed"].includes(event.type));
    expect(seen).toEqual([created.createdAt, ...delivered.map((event) => event.createdAt)]);
  });
});
