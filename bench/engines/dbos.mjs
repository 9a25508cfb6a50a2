// Driver process for the DBOS Transact peer (@dbos-inc/dbos-sdk) on the same PostgreSQL server as
// Stepwise (BENCH_PG_URL: a fresh system database, synchronous_commit on). Default configuration
// apart from no admin server and warnings-only logs. Workflows and steps are registered with
// DBOS.registerWorkflow / DBOS.registerStep and started with DBOS.startWorkflow, in-process.
// DBOS has no hooks: its equivalent is DBOS.recv(topic) in the workflow, resumed by DBOS.send.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serveDriver } from "../lib/ipc.mjs";
import { inProcessScenarios, warmUp } from "../scenarios/in-process.mjs";

const peers = fileURLToPath(new URL("../peers/", import.meta.url));
const require = createRequire(join(peers, "index.js"));

serveDriver(async () => {
  const { DBOS } = require("@dbos-inc/dbos-sdk");
  const waiting = new Set(); // tokens whose workflow has reached recv

  const noop = DBOS.registerStep(
    async (i, key) => {
      globalThis.__benchStep?.(key, i);
      return i;
    },
    { name: "noop" },
  );
  const workflows = {
    sequential: DBOS.registerWorkflow(
      async (n, key) => {
        let last = 0;
        for (let i = 0; i < n; i++) last = await noop(i, key);
        return last;
      },
      { name: "sequential" },
    ),
    fanout: DBOS.registerWorkflow(
      async (n, key) => {
        const all = await Promise.all(Array.from({ length: n }, (_, i) => noop(i, key)));
        return all.length;
      },
      { name: "fanout" },
    ),
    waitHook: DBOS.registerWorkflow(
      async (token, key) => {
        waiting.add(token);
        const payload = await DBOS.recv("hook", 86_400);
        return await noop(payload.v, key);
      },
      { name: "waitHook" },
    ),
  };

  DBOS.setConfig({
    name: "stepwise-bench",
    systemDatabaseUrl: process.env.BENCH_PG_URL,
    runAdminServer: false,
    logLevel: "warn",
  });
  await DBOS.launch();

  const adapter = {
    async start(workflow, args) {
      const params = workflow === "waitHook" ? { workflowID: args[0] } : {};
      const handle = await DBOS.startWorkflow(workflows[workflow], params)(...args);
      return handle.workflowID;
    },
    async status(id) {
      const status = (await DBOS.getWorkflowStatus(id))?.status;
      if (status === "SUCCESS") return "done";
      if (status === "ERROR" || status === "CANCELLED") return "failed";
      return "running";
    },
    async hookReady(token) {
      return waiting.delete(token); // forget it once seen: the set must not add to the heap measured
    },
    async resume(token, payload) {
      await DBOS.send(token, payload, "hook");
    },
  };
  const scenarios = inProcessScenarios(adapter);
  const { version } = JSON.parse(
    readFileSync(join(peers, "node_modules/@dbos-inc/dbos-sdk/package.json"), "utf8"),
  );
  return {
    info: { engine: "dbos", world: "postgres", version },
    scenarios: { ...scenarios, warmUp: (p) => warmUp(scenarios, p) },
    async close() {
      await DBOS.shutdown();
    },
  };
});
