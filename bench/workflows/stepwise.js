// The benchmark workflow for Stepwise's dedicated worker processes (`stepwise worker` loads this
// file through the compiler, so it uses the directives). When BENCH_STEP_LOG is set, each step
// appends "<pid> <epoch ms>" to that file: the failover scenario reads it to see which worker ran
// a run's steps and when. The step can also take a little time (`stepMs`) so a run is "mid-run"
// long enough to kill its worker.
import { appendFileSync } from "node:fs";

async function noop(i, stepMs) {
  "use step";
  const log = process.env.BENCH_STEP_LOG;
  if (log) appendFileSync(log, `${process.pid} ${performance.timeOrigin + performance.now()}\n`);
  if (stepMs > 0) await new Promise((resolve) => setTimeout(resolve, stepMs));
  return i;
}

export async function sequential(n, stepMs = 0) {
  "use workflow";
  let last = 0;
  for (let i = 0; i < n; i++) last = await noop(i, stepMs);
  return last;
}
