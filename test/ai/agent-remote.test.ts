/**
 * A durable agent over the remote World: the app and its in-process worker talk to a real
 * `npx stepwise server` process (worker protocol v1) and hold no database; the model step writes
 * the answer's chunks through the protocol, and a chat route in another client process serves
 * them back.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";
import { logLines, makeAgentProject } from "./agent-project.ts";
import { waitFor } from "./world-view.ts";

const SECRET = "agent-remote-test-secret-0123456789abcdef";
let project: Project;
let server: ReturnType<typeof spawnNode>;
let url: string;

beforeAll(async () => {
  project = makeAgentProject();
  server = spawnNode([join(REPO, "dist", "cli", "index.js"), "server", "--port", "0"], project.dir, {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: join(project.dir, "server-data"),
    STEPWISE_HTTP_SECRET: SECRET,
  });
  url = await waitFor("the server", async () => {
    if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
    return /listening on (http:\/\/\S+)/.exec(server.output.stderr)?.[1];
  });
}, 60_000);
afterAll(() => {
  server?.child.kill("SIGKILL");
  project?.remove();
});

it("runs the agent with a worker that speaks the protocol, and streams the answer through the server", async () => {
  const env = {
    STEPWISE_WORLD: url,
    STEPWISE_HTTP_SECRET: SECRET,
    AGENT_LOG: join(project.dir, "remote.log"),
  };
  const run = await runNode(["--import", REGISTER, "start.ts", "what is the weather?"], project.dir, env);
  expect(run.code, run.stderr).toBe(0);
  const [runId = "", outcome = ""] = run.stdout.trim().split("\n");
  expect(JSON.parse(outcome)).toEqual({
    text: 'Result of getWeather: {"city":"Paris","celsius":21}',
    steps: 2,
  });
  expect(logLines(readFileSync(join(project.dir, "remote.log"), "utf8")).map((l) => l.split(" ")[0])).toEqual(
    ["model", "tool", "model"],
  );
  const read = await runNode(["--import", REGISTER, "read.ts", runId, "0"], project.dir, {
    ...env,
    STEPWISE_WORKER: "0",
  });
  expect(read.code, read.stderr).toBe(0);
  const [header, ...body] = read.stdout.split("\n");
  expect(header).toBe(`run-id: ${runId}`);
  const chunks = body
    .join("\n")
    .split("\n\n")
    .map((e) => e.trim())
    .filter((e) => e.startsWith("data: {"))
    .map((e) => JSON.parse(e.slice(6)) as { type: string; delta?: string });
  expect(chunks[0]?.type).toBe("start");
  expect(chunks.at(-1)?.type).toBe("finish");
  expect(
    chunks
      .filter((c) => c.type === "text-delta")
      .map((c) => c.delta)
      .join(""),
  ).toBe('Result of getWeather: {"city":"Paris","celsius":21}');
  expect(read.stdout.trimEnd().endsWith("data: [DONE]")).toBe(true);
});
