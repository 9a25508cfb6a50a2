/**
 * The durable agent (`stepwise-workflows/ai`) in real processes over the local SQLite World, with
 * the AI SDK's mock model (no network): model calls and tool calls are steps recorded once and
 * never repeated by a replay (counted on the log the mocks append to, and on the run's events);
 * the answer streams as UI message chunks that a chat route serves from any index; a tool that
 * needs approval waits on a hook; a failing model is retried and then fails the chat with a
 * message that says what to do; a tool result that is not JSON fails clearly.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { type Project, REGISTER, runNode, spawnNode } from "../helpers/project.ts";
import { logLines, makeAgentProject } from "./agent-project.ts";
import { completedSteps, openProjectWorld, streamOf, waitFor } from "./world-view.ts";

let project: Project;
let world: World;
const env = (extra: Record<string, string> = {}) => ({
  STEPWISE_WORLD: "local",
  STEPWISE_DATA_DIR: ".stepwise",
  AGENT_LOG: join(project.dir, "agent.log"),
  ...extra,
});

beforeAll(() => {
  project = makeAgentProject();
  world = openProjectWorld(project.dir);
});
afterAll(async () => {
  await world.close();
  project.remove();
});

function resetLog(name: string): Record<string, string> {
  return { AGENT_LOG: join(project.dir, name) };
}

function log(name: string): string[] {
  try {
    return logLines(readFileSync(join(project.dir, name), "utf8"));
  } catch {
    return [];
  }
}

async function chat(text: string, extra: Record<string, string> = {}, pauseAfter?: string) {
  const result = await runNode(
    ["--import", REGISTER, "start.ts", text, ...(pauseAfter ? [pauseAfter] : [])],
    project.dir,
    env(extra),
  );
  expect(result.code, result.stderr).toBe(0);
  const [runId = "", outcome = ""] = result.stdout.trim().split("\n");
  return { runId, outcome };
}

describe("DurableAgent", () => {
  it("makes each model call and tool call a step, and a replay repeats none", async () => {
    // The run sleeps after the answer, so it leaves memory and replays its whole log when it wakes.
    const { runId, outcome } = await chat("what is the weather in Paris?", resetLog("weather.log"), "300ms");
    expect(JSON.parse(outcome)).toEqual({
      text: 'Result of getWeather: {"city":"Paris","celsius":21}',
      steps: 2,
    });
    const lines = log("weather.log").map((l) => l.split(" ").slice(0, 2).join(" "));
    expect(lines).toEqual(["model 2", "tool getWeather", "model 4"]);
    expect(await completedSteps(world, runId)).toEqual({ "ai-prepare": 1, "ai-model": 2, getWeather: 1 });
    const events = await world.events.list(runId);
    expect(events.some((e) => e.type === "wait_completed")).toBe(true);

    const { chunks, closed } = await streamOf(world, runId);
    expect(closed).toBe(true);
    const types = chunks.map((c) => c.type);
    expect(types[0]).toBe("start");
    expect(types.at(-1)).toBe("finish");
    expect(chunks).toContainEqual(
      expect.objectContaining({
        type: "tool-input-available",
        toolName: "getWeather",
        input: { city: "Paris" },
      }),
    );
    expect(chunks).toContainEqual({
      type: "tool-output-available",
      toolCallId: "call-1",
      output: { city: "Paris", celsius: 21 },
    });
    const text = chunks
      .filter((c) => c.type === "text-delta")
      .map((c) => c.delta)
      .join("");
    expect(text).toBe('Result of getWeather: {"city":"Paris","celsius":21}');
  });

  it("serves the answer from any index, as a chat route does for a client that reconnects", async () => {
    const { runId } = await chat("tell me a story", resetLog("story.log"));
    const { chunks } = await streamOf(world, runId);
    expect(chunks.length).toBeGreaterThan(40);
    const from = 17;
    const read = await runNode(["--import", REGISTER, "read.ts", runId, String(from)], project.dir, {
      ...env(),
      STEPWISE_WORKER: "0",
    });
    expect(read.code, read.stderr).toBe(0);
    const [header, ...rest] = read.stdout.split("\n");
    expect(header).toBe(`run-id: ${runId}`);
    const events = rest
      .join("\n")
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => e.slice(6));
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.slice(0, -1).map((e) => JSON.parse(e))).toEqual(chunks.slice(from));
  });

  it("waits on a hook for a tool that needs approval, and runs the tool once approved", async () => {
    const proc = spawnNode(
      ["--import", REGISTER, "start.ts", "please refund my order"],
      project.dir,
      env(resetLog("refund.log")),
    );
    const runId = await waitFor(
      "the run id",
      async () => proc.output.stdout.split("\n")[0]?.match(/^wrun_\w+$/)?.[0],
    );
    const request = await waitFor("the approval request", async () =>
      (await streamOf(world, runId)).chunks.find((c) => c.type === "tool-approval-request"),
    );
    expect(request.toolCallId).toBe("call-2");
    expect(log("refund.log").filter((l) => l.startsWith("tool"))).toEqual([]);
    const hook = await world.hooks.getByToken(String(request.approvalId));
    expect(hook.runId).toBe(runId);
    const approve = await runNode(
      ["--import", REGISTER, "approve.ts", String(request.approvalId), "yes"],
      project.dir,
      {
        ...env(),
        STEPWISE_WORKER: "0",
      },
    );
    expect(approve.code, approve.stderr).toBe(0);
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(proc.output.stdout.split("\n")[1] ?? "")).toEqual({
      text: 'Result of refund: {"refunded":40}',
      steps: 2,
    });
    expect(log("refund.log").filter((l) => l.startsWith("tool")).length).toBe(1);
    const { chunks } = await streamOf(world, runId);
    expect(chunks).toContainEqual({
      type: "tool-output-available",
      toolCallId: "call-2",
      output: { refunded: 40 },
    });
  });

  it("tells the model when a human denies the tool, and never runs it", async () => {
    const proc = spawnNode(
      ["--import", REGISTER, "start.ts", "refund please"],
      project.dir,
      env(resetLog("deny.log")),
    );
    const runId = await waitFor(
      "the run id",
      async () => proc.output.stdout.split("\n")[0]?.match(/^wrun_\w+$/)?.[0],
    );
    const request = await waitFor("the approval request", async () =>
      (await streamOf(world, runId)).chunks.find((c) => c.type === "tool-approval-request"),
    );
    const deny = await runNode(
      ["--import", REGISTER, "approve.ts", String(request.approvalId), "no", "too much"],
      project.dir,
      { ...env(), STEPWISE_WORKER: "0" },
    );
    expect(deny.code, deny.stderr).toBe(0);
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(proc.output.stdout.split("\n")[1] ?? "")).toEqual({
      text: "Result of refund: execution-denied",
      steps: 2,
    });
    expect(log("deny.log").filter((l) => l.startsWith("tool"))).toEqual([]);
    const { chunks } = await streamOf(world, runId);
    expect(chunks).toContainEqual({ type: "tool-output-denied", toolCallId: "call-2" });
  });

  it("retries a failing model call as attempts of its step", async () => {
    const { runId, outcome } = await chat("hello", { ...resetLog("flaky.log"), MOCK_FAILURES: "2" });
    expect(JSON.parse(outcome).steps).toBe(1);
    expect(log("flaky.log").length).toBe(3);
    expect(await completedSteps(world, runId)).toEqual({ "ai-prepare": 1, "ai-model": 1 });
    const events = await world.events.list(runId);
    expect(events.filter((e) => e.type === "step_retrying").length).toBe(2);
    const { chunks } = await streamOf(world, runId);
    expect(chunks.filter((c) => c.type === "error")).toEqual([]);
  });

  it("fails the chat with a message that says what to do when the model keeps failing", async () => {
    const { runId, outcome } = await chat("hello", { ...resetLog("down.log"), MOCK_FAILURES: "100" });
    expect(outcome).toMatch(/^FAILED /);
    expect(outcome).toContain('Model "mock" failed 3 time(s)');
    expect(outcome).toContain("the provider is overloaded");
    expect(outcome).toContain("Check the provider");
    expect(log("down.log").length).toBe(3);
    expect((await world.runs.get(runId)).status).toBe("failed");
    const { chunks, closed } = await streamOf(world, runId);
    expect(closed).toBe(true);
    const error = chunks.at(-1);
    expect(error?.type).toBe("error");
    expect(String(error?.errorText)).toContain("Check the provider");
  });

  it("runs a tool written as workflow code, which sleeps durably before its step", async () => {
    const { runId, outcome } = await chat("remind me later", resetLog("remind.log"));
    expect(JSON.parse(outcome)).toEqual({
      text: 'Result of remindLater: {"reminded":true,"after":"1s"}',
      steps: 2,
    });
    expect(log("remind.log").map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual([
      "model 2",
      "tool remind",
      "model 4",
    ]);
    const events = await world.events.list(runId);
    const wait = events.find((e) => e.type === "wait_created");
    const woke = events.find((e) => e.type === "wait_completed");
    expect(wait).toBeDefined();
    expect(woke).toBeDefined();
    expect(await completedSteps(world, runId)).toEqual({ "ai-prepare": 1, "ai-model": 2, sendReminder: 1 });
  });

  it("shows a tool step whose result cannot be stored in the chat, saying what to return", async () => {
    const { runId, outcome } = await chat("the opaque tool", resetLog("opaque.log"));
    // The step failed at once (no retry can change the value); the model is told, the run goes on.
    expect(JSON.parse(outcome)).toEqual({ text: "Result of opaque: error-text", steps: 2 });
    const { chunks } = await streamOf(world, runId);
    const error = chunks.find((c) => c.type === "tool-output-error");
    expect(error?.toolCallId).toBe("call-5");
    expect(String(error?.errorText)).toContain(
      "Step step//workflows/chat.ts//opaqueTool returned a value that cannot be serialized",
    );
    expect(String(error?.errorText)).toContain("Pass plain data");
    const events = await world.events.list(runId);
    expect(events.filter((e) => e.type === "step_retrying")).toEqual([]);
  });

  it("refuses a tool result the model cannot read as JSON, naming the tool and the value", async () => {
    const { runId, outcome } = await chat("the broken tool", resetLog("broken.log"));
    expect(outcome).toContain('Tool "broken" returned a Date at output.when');
    expect(outcome).toContain("convert dates to strings");
    const { chunks } = await streamOf(world, runId);
    expect(chunks.at(-1)?.type).toBe("error");
  });
});
