/**
 * A durable agent survives its worker: the process driving a chat run is SIGKILLed while the
 * model streams its second answer (after a model call and a tool call were recorded), and a new
 * process finishes the run. The mocks' log shows the recorded model call and tool call never ran
 * again; only the call the kill interrupted ran once more, to its end, in the new process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { type Project, REGISTER, spawnNode } from "../helpers/project.ts";
import { logLines, makeAgentProject } from "./agent-project.ts";
import { completedSteps, openProjectWorld, streamOf, waitFor } from "./world-view.ts";

let project: Project;
let world: World;

beforeAll(() => {
  project = makeAgentProject();
  world = openProjectWorld(project.dir);
});
afterAll(async () => {
  await world.close();
  project.remove();
});

it("finishes a conversation in another process after a SIGKILL, repeating no recorded model or tool call", async () => {
  const logFile = join(project.dir, "kill.log");
  const env = {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: ".stepwise",
    AGENT_LOG: logFile,
    MOCK_CHUNK_DELAY: "150",
  };
  const entries = () => {
    try {
      return logLines(readFileSync(logFile, "utf8")).map((line) => {
        const [kind = "", what = "", pid = ""] = line.split(" ");
        return { call: `${kind} ${what}`, pid: Number(pid) };
      });
    } catch {
      return [];
    }
  };

  const first = spawnNode(["--import", REGISTER, "start.ts", "what is the weather?"], project.dir, env);
  const runId = await waitFor(
    "the run id",
    async () => first.output.stdout.split("\n")[0]?.match(/^wrun_\w+$/)?.[0],
  );
  // Kill it while the second model call is streaming its answer.
  await waitFor("the second answer streaming", async () => {
    const calls = entries().map((e) => e.call);
    if (!calls.includes("model 4")) return undefined;
    const { chunks } = await streamOf(world, runId);
    return chunks.some((c) => c.type === "text-delta") ? true : undefined;
  });
  first.child.kill("SIGKILL");
  expect(await first.exited).toBe(null);
  const firstPid = first.child.pid;
  expect(entries()).toEqual([
    { call: "model 2", pid: firstPid },
    { call: "tool getWeather", pid: firstPid },
    { call: "model 4", pid: firstPid },
  ]);
  expect((await world.runs.get(runId)).status).toBe("running");

  const second = spawnNode(["--import", REGISTER, "continue.ts", runId], project.dir, env);
  expect(await second.exited, second.output.stderr).toBe(0);
  expect(JSON.parse(second.output.stdout.trim())).toEqual({
    text: 'Result of getWeather: {"city":"Paris","celsius":21}',
    steps: 2,
  });
  // Only the interrupted call ran again; the recorded ones did not.
  expect(entries().slice(3)).toEqual([{ call: "model 4", pid: second.child.pid }]);
  expect(await completedSteps(world, runId)).toEqual({ "ai-prepare": 1, "ai-model": 2, getWeather: 1 });
  const { chunks, closed } = await streamOf(world, runId);
  expect(closed).toBe(true);
  expect(chunks.at(-1)?.type).toBe("finish");
  // The killed attempt's partial text stays in the stream; the new attempt streams the whole answer.
  const parts = new Map<string, string>();
  for (const c of chunks)
    if (c.type === "text-delta") parts.set(String(c.id), (parts.get(String(c.id)) ?? "") + String(c.delta));
  const texts = [...parts.values()];
  expect(texts.length).toBe(2);
  expect('Result of getWeather: {"city":"Paris","celsius":21}'.startsWith(texts[0] ?? "-")).toBe(true);
  expect(texts[1]).toBe('Result of getWeather: {"city":"Paris","celsius":21}');
});
