/**
 * A durable agent built ahead of time (`npx stepwise build`) runs with plain `node`: the built
 * workflow's sandbox bundle carries `DurableAgent` (the entry mapped to its sandbox module), and
 * the built host code imports `stepwise-workflows/ai`, which registers the agent's steps.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { npxStepwise, type Project, runNode } from "../helpers/project.ts";
import { logLines, makeAgentProject } from "./agent-project.ts";

let project: Project;
beforeAll(() => {
  project = makeAgentProject();
});
afterAll(() => project.remove());

it("runs an agent built with npx stepwise build under plain node", async () => {
  const build = await npxStepwise(["build", "start.ts", "--out-dir", "build"], project.dir);
  expect(build.code, build.stderr).toBe(0);
  expect(readFileSync(join(project.dir, "build", "workflows", "chat.sandbox.js"), "utf8")).toContain(
    "DurableAgent",
  );
  const result = await runNode(["build/start.js", "what is the weather?"], project.dir, {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: ".stepwise",
    AGENT_LOG: join(project.dir, "built.log"),
  });
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout.trim().split("\n")[1] ?? "")).toEqual({
    text: 'Result of getWeather: {"city":"Paris","celsius":21}',
    steps: 2,
  });
  const calls = logLines(readFileSync(join(project.dir, "built.log"), "utf8")).map((l) => l.split(" ")[0]);
  expect(calls).toEqual(["model", "tool", "model"]);
});
