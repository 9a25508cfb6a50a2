/**
 * The agent on a dedicated worker, as docs/ai.md sets one up: `npx stepwise worker models.ts
 * workflows/chat.ts` loads the module that registers the provider and the workflow file (whose
 * host code registers the agent's steps); the app only starts runs (STEPWISE_WORKER=0).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";
import { logLines, makeAgentProject } from "./agent-project.ts";

let project: Project;
let worker: ReturnType<typeof spawnNode> | undefined;
beforeAll(() => {
  project = makeAgentProject();
});
afterAll(() => {
  worker?.child.kill("SIGKILL");
  project.remove();
});

it("runs on npx stepwise worker given the provider's module and the workflow file", async () => {
  const env = {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: join(project.dir, ".stepwise"),
    AGENT_LOG: join(project.dir, "worker.log"),
  };
  worker = spawnNode(
    [join(REPO, "dist", "cli", "index.js"), "worker", "models.ts", "workflows/chat.ts"],
    project.dir,
    env,
  );
  const run = await runNode(["--import", REGISTER, "start.ts", "what is the weather?"], project.dir, {
    ...env,
    STEPWISE_WORKER: "0",
  });
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout.trim().split("\n")[1] ?? "")).toEqual({
    text: 'Result of getWeather: {"city":"Paris","celsius":21}',
    steps: 2,
  });
  // Every call happened in the worker's process, none in the app's.
  const pids = logLines(readFileSync(join(project.dir, "worker.log"), "utf8")).map((l) =>
    Number(l.split(" ").at(-1)),
  );
  expect(pids).toEqual([worker.child.pid, worker.child.pid, worker.child.pid]);
});
