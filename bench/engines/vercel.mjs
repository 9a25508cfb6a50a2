// Driver process for the Vercel Workflow SDK peer (`workflow` 4.8.x), without Next.js:
// `node bench/engines/vercel.mjs local|postgres`, run with cwd = bench/peers/vercel-app.
// `workflow build` (bench/peers-setup/install.mjs) wrote standalone CommonJS bundles under
// .well-known/workflow/v1/; a node:http server here hosts them -- requests for
// /.well-known/workflow/v1/flow and /step go to the bundles' exported POST(request) -- and
// WORKFLOW_LOCAL_BASE_URL points the World's queue at it (both Worlds deliver queue messages over
// HTTP to that URL). Runs are started with start() from `workflow/api`.
// - local World: WORKFLOW_TARGET_WORLD=local, JSON files in a fresh WORKFLOW_LOCAL_DATA_DIR,
//   in-memory queue.
// - postgres World: WORKFLOW_TARGET_WORLD=@workflow/world-postgres on BENCH_PG_URL (a fresh
//   database the orchestrator bootstrapped with the package's own `bootstrap` script);
//   getWorld().start() starts its graphile-worker queue, as its docs say a server must.
// Defaults everywhere else (queue concurrency, pool size).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { serveDriver } from "../lib/ipc.mjs";
import { inProcessScenarios, warmUp } from "../scenarios/in-process.mjs";

const kind = process.argv[2] ?? "local";
const app = process.cwd(); // bench/peers/vercel-app
const require = createRequire(join(app, "index.js"));
const load = (specifier) => import(pathToFileURL(require.resolve(specifier)).href);

/** node:http -> Request -> the bundle's POST -> Response -> node:http. */
function host(handlers) {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url, `http://${req.headers.host}`);
      const route = url.pathname.replace(/\/$/, "").split("/").pop();
      const handler = handlers[route];
      if (!url.pathname.startsWith("/.well-known/workflow/v1/") || !handler) {
        res.writeHead(404).end();
        return;
      }
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      const response = await handler(new Request(url, { method: req.method, headers, body }));
      const out = Buffer.from(await response.arrayBuffer());
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      res.end(out);
    } catch (error) {
      res.writeHead(500).end(String(error?.stack ?? error));
    }
  });
}

serveDriver(async () => {
  let dataDir;
  const handlers = {};
  const server = host(handlers);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.WORKFLOW_LOCAL_BASE_URL = `http://127.0.0.1:${server.address().port}`;
  if (kind === "local") {
    dataDir = mkdtempSync(join(tmpdir(), "vercel-workflow-bench-"));
    process.env.WORKFLOW_TARGET_WORLD = "local";
    process.env.WORKFLOW_LOCAL_DATA_DIR = dataDir;
  } else {
    process.env.WORKFLOW_TARGET_WORLD = "@workflow/world-postgres";
    process.env.WORKFLOW_POSTGRES_URL = process.env.BENCH_PG_URL;
  }
  const flow = require("./.well-known/workflow/v1/flow.js");
  const step = require("./.well-known/workflow/v1/step.js");
  handlers.flow = flow.POST;
  handlers.step = step.POST;

  const api = await load("workflow/api");
  const runtime = await load("workflow/runtime");
  const world = runtime.getWorld();
  await world.start?.();

  const adapter = {
    async start(workflow, args) {
      const run = await api.start({ workflowId: `workflow//./workflows/bench//${workflow}` }, args);
      return run.runId;
    },
    async status(runId) {
      const { status } = await world.runs.get(runId);
      if (status === "completed") return "done";
      if (status === "failed" || status === "cancelled") return "failed";
      return "running";
    },
    async hookReady(token) {
      try {
        await api.getHookByToken(token);
        return true;
      } catch {
        return false;
      }
    },
    async resume(token, payload) {
      await api.resumeHook(token, payload);
    },
  };
  const scenarios = inProcessScenarios(adapter);
  const { version } = JSON.parse(readFileSync(join(app, "../node_modules/workflow/package.json"), "utf8"));
  return {
    info: { engine: "vercel", world: kind, version },
    scenarios: { ...scenarios, warmUp: (p) => warmUp(scenarios, p) },
    async close() {
      await world.close?.();
      server.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
