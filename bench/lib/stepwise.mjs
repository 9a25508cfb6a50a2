// Stepwise under benchmark, in-process: registers the benchmark workflows through the runtime's
// registration API (what compiled code calls) -- the same three workflows every engine runs:
// sequential(n, key), fanout(n, key) and waitHook(token, key). The no-op step stamps
// globalThis.__benchStep(key, i) (see scenarios/in-process.mjs).
import { registerStep, registerWorkflowBundle, workflowReference } from "../../dist/internal.js";

registerStep("step//bench//noop", async (i, key) => {
  globalThis.__benchStep?.(key, i);
  return i;
});

registerWorkflowBundle({
  filename: "bench-workflows.js",
  workflowIds: ["workflow//bench//sequential", "workflow//bench//fanout", "workflow//bench//waitHook"],
  code: `(() => {
    const r = globalThis[Symbol.for("stepwise.sandbox")].registrar;
    const noop = r.step("step//bench//noop");
    r.registerWorkflow("workflow//bench//sequential", async function sequential(n, key) {
      let last = 0;
      for (let i = 0; i < n; i++) last = await noop(i, key);
      return last;
    });
    r.registerWorkflow("workflow//bench//fanout", async function fanout(n, key) {
      const all = await Promise.all(Array.from({ length: n }, (_, i) => noop(i, key)));
      return all.length;
    });
    r.registerWorkflow("workflow//bench//waitHook", async function waitHook(token, key) {
      const hook = r.api.createHook({ token });
      const payload = await hook;
      return await noop(payload.v, key);
    });
  })();`,
});

export const workflows = {
  sequential: workflowReference("workflow//bench//sequential"),
  fanout: workflowReference("workflow//bench//fanout"),
  waitHook: workflowReference("workflow//bench//waitHook"),
};
