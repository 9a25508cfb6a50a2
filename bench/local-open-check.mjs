/**
 * What the local World's integrity check costs at open (run with `npm run build && node
 * bench/local-open-check.mjs [megabytes] [dir]`): builds a database of realistic runs (11 steps, 200
 * B arguments, 0.6 to 2 KB results, one run in 20 KB) up to the given size (default 1024 MB; reused
 * when `dir` already holds one), then times SQLite's quick_check and integrity_check on it from the
 * page cache and, where `python3` can evict the file from the cache (posix_fadvise), from disk; and
 * `createLocalWorld` itself, which checks files up to 64 MiB in full before opening and larger ones
 * in a background process. Prints numbers; asserts nothing.
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createLocalWorld } from "../dist/worlds/local/index.js";

const megabytes = Number(process.argv[2] ?? 1024);
const dataDir = process.argv[3] ?? mkdtempSync(join(tmpdir(), "stepwise-open-bench-"));
const file = join(dataDir, "stepwise.db");

const random = (bytes) => randomFillSync(new Uint8Array(bytes));

async function build() {
  const world = createLocalWorld({ dataDir });
  let runs = 0;
  const started = performance.now();
  while (
    statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) <
    megabytes * 2 ** 20
  ) {
    const batch = [];
    for (let index = 0; index < 200; index++) {
      const runId = `wrun_${String(runs++).padStart(10, "0")}`;
      batch.push(
        (async () => {
          await world.runs.create({
            runId,
            workflowName: "workflow//app.ts//order",
            specVersion: 1,
            seed: "s",
            input: random(300),
          });
          let seq = (
            await world.events.append({ runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] })
          ).seq;
          for (let step = 0; step < 11; step++) {
            const events = [];
            if (step > 0) {
              const result = random(600 + ((step * 97) % 1400));
              events.push({
                type: "step_completed",
                data: { stepId: `step_${step - 1}`, attempt: 1 },
                payload: result,
              });
            }
            if (step < 10) {
              const args = random(200);
              events.push({
                type: "step_started",
                data: { stepId: `step_${step}`, stepName: "step//app.ts//charge", attempt: 1 },
                payload: args,
              });
            } else {
              events.push({ type: "run_completed", data: {}, payload: random(400) });
            }
            seq = (await world.events.append({ runId, expectedSeq: seq, events })).seq;
          }
        })(),
      );
    }
    await Promise.all(batch);
  }
  await world.close();
  console.log(`built ${runs} runs in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

function evict() {
  const script =
    "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)";
  return spawnSync("python3", ["-c", script, file]).status === 0;
}

function timeCheck(pragma) {
  const db = new Database(file, { readonly: true });
  const started = performance.now();
  const result = db.pragma(pragma, { simple: true });
  const ms = performance.now() - started;
  db.close();
  if (result !== "ok") throw new Error(`${pragma}: ${result}`);
  return ms;
}

if (!existsSync(file)) await build();
const size = statSync(file).size;
console.log(`database: ${file}, ${(size / 2 ** 20).toFixed(0)} MB`);
for (const pragma of ["quick_check", "integrity_check"]) {
  timeCheck(pragma); // warm the cache
  const warm = timeCheck(pragma);
  const cold = evict() ? timeCheck(pragma) : undefined;
  console.log(
    `${pragma.padEnd(16)} cached ${(warm / 1000).toFixed(2)} s (${((warm / size) * 2 ** 20).toFixed(2)} ms/MB)` +
      (cold === undefined
        ? ""
        : `, from disk ${(cold / 1000).toFixed(1)} s (${((cold / size) * 2 ** 20).toFixed(1)} ms/MB)`),
  );
}
timeCheck("quick_check");
const started = performance.now();
const world = createLocalWorld({ dataDir });
const opened = performance.now() - started;
await world.close();
const how =
  size <= 64 * 2 ** 20 ? "quick_check in full before opening" : "quick_check in a background process";
console.log(`createLocalWorld on it (${how}): ${opened.toFixed(1)} ms`);
