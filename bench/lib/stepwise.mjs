// Stepwise under benchmark: registers the benchmark workflows through the runtime's registration
// API (what compiled code calls) and runs them on a fresh World per scenario.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configure, shutdown, start } from "../../dist/api/index.js";
import { registerStep, registerWorkflowBundle, workflowReference } from "../../dist/internal.js";

export const stepTimes = [];

registerStep("step//bench//noop", async (i) => {
  stepTimes.push(performance.now());
  return i;
});

registerWorkflowBundle({
  filename: "bench-workflows.js",
  workflowIds: ["workflow//bench//sequential", "workflow//bench//fanout", "workflow//bench//waitHook"],
  code: `(() => {
    const r = globalThis[Symbol.for("stepwise.sandbox")].registrar;
    const noop = r.step("step//bench//noop");
    r.registerWorkflow("workflow//bench//sequential", async function sequential(n) {
      let last = 0;
      for (let i = 0; i < n; i++) last = await noop(i);
      return last;
    });
    r.registerWorkflow("workflow//bench//fanout", async function fanout(n) {
      const all = await Promise.all(Array.from({ length: n }, (_, i) => noop(i)));
      return all.length;
    });
    r.registerWorkflow("workflow//bench//waitHook", async function waitHook(token) {
      const hook = r.api.createHook({ token });
      return await hook;
    });
  })();`,
});

export const workflows = {
  sequential: workflowReference("workflow//bench//sequential"),
  fanout: workflowReference("workflow//bench//fanout"),
  waitHook: workflowReference("workflow//bench//waitHook"),
};

/** Runs `body` against a fresh World made by `makeWorld(dir)`; cleans up afterwards. */
export async function withWorld(makeWorld, body, workerOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), "stepwise-bench-"));
  const world = await makeWorld(dir);
  configure({ world, worker: workerOptions });
  try {
    return await body(world);
  } finally {
    await shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

export { start };
