/**
 * Two applications on one data directory (the local World), each with a dedicated worker process
 * (`npx stepwise worker`) that loads only its own workflow, and runs of both started at once. No
 * run is ever claimed by the worker that lacks its workflow: neither worker warns that it "has no
 * workflow", and every queue message is delivered once — a watcher in the test process reads the
 * queue throughout and reports any message claimed twice or handed back after a claim.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { makeProject, type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const RUNS_PER_APP = 25;

/** An application with one workflow: a step, a sleep long enough to go through the queue, a step. */
function app(name: string): Record<string, string> {
  return {
    [`workflows/${name}.ts`]: `
import { sleep } from "stepwise-workflows";

async function hello(label: string): Promise<string> {
  "use step";
  return \`${name} \${label} \${process.pid}\`;
}

export async function ${name}(label: string) {
  "use workflow";
  const first = await hello(label);
  await sleep("1500ms");
  return [first, await hello(label)];
}
`,
    "start.ts": `
import { start } from "stepwise-workflows/api";
import { ${name} } from "./workflows/${name}.ts";
const ids = [];
for (let i = 0; i < Number(process.argv[2]); i++) ids.push((await start(${name}, [\`r\${i}\`])).runId);
console.log(JSON.stringify(ids));
`,
  };
}

let alpha: Project;
let beta: Project;
let dataDir: string;
let world: World;

beforeAll(() => {
  alpha = makeProject(app("alpha"));
  beta = makeProject(app("beta"));
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-two-apps-"));
  world = createLocalWorld({ dataDir });
});
afterAll(async () => {
  await world?.close();
  alpha?.remove();
  beta?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const env = () => ({ STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: dataDir });

async function startRuns(project: Project, count: number): Promise<string[]> {
  const result = await runNode(["--import", REGISTER, "start.ts", String(count)], project.dir, {
    ...env(),
    STEPWISE_WORKER: "0",
  });
  expect(result.stderr.replace(/.*STEPWISE_ENCRYPTION_KEY.*\n?/g, "")).toBe("");
  return JSON.parse(result.stdout) as string[];
}

/**
 * Reads every run's queue messages every 25 ms until stopped. A message seen with more than one
 * delivery, or waiting again after a delivery (handed back), was not delivered once.
 */
function watchQueue(runIds: () => string[]) {
  const seen = new Set<string>();
  const redelivered = new Map<string, string>();
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      for (const runId of runIds()) {
        for (const message of await world.queue.list(runId)) {
          seen.add(message.messageId);
          if (message.deliveries > 1 || (message.deliveries === 1 && message.lease === undefined))
            redelivered.set(
              message.messageId,
              `${message.kind} message of ${runId}: ${message.deliveries} deliveries, ${message.lease ? `leased to ${message.lease.owner}` : "handed back"}`,
            );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    seen,
    redelivered,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

async function waitForAll(runIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(runIds.map(async (id) => (await world.runs.get(id)).status));
    if (statuses.every((status) => status === "completed")) return;
    if (Date.now() > deadline)
      throw new Error(`${statuses.filter((s) => s !== "completed").length} runs did not complete in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("two applications on one data directory", () => {
  it("each worker claims only the runs of its own workflow", async () => {
    const workerA = spawnNode([CLI, "worker", "workflows/alpha.ts"], alpha.dir, env());
    const workerB = spawnNode([CLI, "worker", "workflows/beta.ts"], beta.dir, env());
    const runIds: string[] = [];
    const watcher = watchQueue(() => runIds);
    try {
      for (const worker of [workerA, workerB]) {
        for (let i = 0; i < 300 && !worker.output.stderr.includes("workflow(s)"); i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect(worker.output.stderr).toContain("1 workflow(s)");
      }
      const [alphaRuns, betaRuns] = await Promise.all([
        startRuns(alpha, RUNS_PER_APP),
        startRuns(beta, RUNS_PER_APP),
      ]);
      runIds.push(...(alphaRuns ?? []), ...(betaRuns ?? []));
      await waitForAll(runIds, 90_000);
      await watcher.stop();

      const stderr = `${workerA.output.stderr}\n${workerB.output.stderr}`;
      expect(stderr).not.toMatch(/has no workflow/);
      expect([...watcher.redelivered.values()]).toEqual([]);
      // The watcher saw the queue: at least every run's wake-up after its sleep.
      expect(watcher.seen.size).toBeGreaterThanOrEqual(runIds.length);
      // Each run was executed by its own application's worker.
      const codec = createPayloadCodec();
      for (const [runs, name, pid] of [
        [alphaRuns ?? [], "alpha", workerA.child.pid],
        [betaRuns ?? [], "beta", workerB.child.pid],
      ] as const) {
        for (const runId of runs) {
          const run = await world.runs.get(runId);
          const output = decodeValue(
            codec.decode(run, places.runOutput, run.output as Uint8Array),
          ) as string[];
          expect(output).toHaveLength(2);
          for (const line of output) expect(line).toMatch(new RegExp(`^${name} r\\d+ ${pid}$`));
        }
      }
      console.log(
        `two apps: ${runIds.length} runs, ${watcher.seen.size} queue messages watched, none delivered twice`,
      );
    } finally {
      await watcher.stop();
      for (const worker of [workerA, workerB]) worker.child.kill("SIGTERM");
      await Promise.all([workerA.exited, workerB.exited]);
    }
  }, 150_000);
});
