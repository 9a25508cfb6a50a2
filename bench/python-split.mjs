/**
 * Where a Python worker's step goes, on the embedded World: `npm run build && node
 * bench/python-split.mjs` (`STEPS=` per run, default 2,000; `RUNS=`, default 5; `WARMUP_STEPS=`,
 * default 1,500). A `stepwise server` on SQLite and a Python worker (bench/engines/python.py, the
 * driver bench/python.mjs uses) run sequential no-op steps; after the warm-up, each run times every
 * `events/append` where the worker sends it and reports the medians over the run's second half of
 * - the round trip, from the request's write to the answer read: the server's handling and both
 *   processes' wake-ups;
 * - the Python side's turn, from one answer to the next append's request: decoding the answer,
 *   executing the step, replaying its outcome into the workflow, encoding the next append.
 * Their means add up to about a step (medians leave out the tails). Prints a table (medians over
 * runs); asserts nothing. Used to find what to cut for
 * issue 15's target (bench/README.md, "Where a Python step's time goes").
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnLineDriver } from "./lib/line-driver.mjs";
import { median, table } from "./lib/stats.mjs";
import { ensurePythonPeers } from "./peers-setup/python.mjs";
import { startServer, stopChild } from "./python.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const steps = Number(process.env.STEPS ?? 2000);
const runs = Number(process.env.RUNS ?? 5);
const warmupSteps = Number(process.env.WARMUP_STEPS ?? 1500);

const peers = ensurePythonPeers((text) => console.error(text));
if (!peers.stepwise.ok) throw new Error(`the Python bench environment is missing: ${peers.stepwise.error}`);
const secret = randomBytes(24).toString("hex");
const dir = mkdtempSync(join(tmpdir(), "stepwise-bench-split-"));
const { child, url } = await startServer(
  { STEPWISE_HTTP_SECRET: secret, STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: join(dir, "sqlite-world") },
  dir,
);
const driver = await spawnLineDriver(
  peers.stepwise.python,
  [join(root, "bench/engines/python.py"), "stepwise"],
  {
    env: { STEPWISE_WORLD: url, STEPWISE_HTTP_SECRET: secret },
    cwd: root,
    label: "stepwise",
  },
);
try {
  if (driver.error) throw new Error(driver.error);
  await driver.call("warmUp", {}, 300_000);
  for (let done = 0; done < warmupSteps; done += 300) await driver.call("sequential", { n: 300 }, 600_000);
  const rows = [];
  for (let i = 0; i < runs; i++) {
    const result = await driver.call("split", { n: steps }, 600_000);
    rows.push(result);
    console.error(
      `  run ${i + 1}/${runs}: ${result.perStepMs.toFixed(3)} ms per step, round trip ${result.roundTripUs.toFixed(0)} µs, Python turn ${result.pythonTurnUs.toFixed(0)} µs (medians)`,
    );
  }
  const mid = (field) => median(rows.map((row) => row[field]));
  console.log(
    `## A Python step on the embedded World: ${runs} runs of ${steps} steps, after ${warmupSteps}\n`,
  );
  console.log(
    table(
      ["ms per step", "round trip (server and wake-ups), µs", "Python side's turn, µs"],
      [
        [
          mid("perStepMs").toFixed(3),
          `${mid("roundTripUs").toFixed(0)} (mean ${mid("roundTripMeanUs").toFixed(0)})`,
          `${mid("pythonTurnUs").toFixed(0)} (mean ${mid("pythonTurnMeanUs").toFixed(0)})`,
        ],
      ],
    ),
  );
} finally {
  await driver.close().catch(() => {});
  await stopChild(child);
  rmSync(dir, { recursive: true, force: true });
}
