/**
 * The example's server: a plain `node:http` server with the three routes a durable chat needs and
 * the page. Run it with `node --import stepwise-workflows/register examples/agent/server.ts`
 * (PORT, default 3000; the runs live in the local SQLite World).
 *
 *   POST /api/chat                       starts a run of `support` and streams its answer
 *   GET  /api/chat/:runId/stream         the answer again, from ?startIndex= (reconnecting clients)
 *   POST /api/chat/:runId/approvals      { approvals: [{ approvalId, approved, reason? }] }
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { UIMessage } from "ai";
import { build } from "esbuild";
import { createAgentStreamResponse, startIndexOf } from "stepwise-workflows/ai";
import { getHookByToken, getRun, resumeHook, start } from "stepwise-workflows/api";
import { toNodeListener } from "stepwise-workflows/http";
import "./models.ts";
import { support } from "./workflows/support.ts";

const PAGE = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Stepwise durable agent</title></head>
  <body><div id="root"></div><script type="module" src="/client.js"></script></body>
</html>`;

/** The page's script, bundled once for the browser (the `browser` build of stepwise-workflows/ai). */
const client = await build({
  entryPoints: [fileURLToPath(new URL("./client.js", import.meta.url))],
  bundle: true,
  write: false,
  format: "esm",
  platform: "browser",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "silent",
});
const CLIENT_JS = client.outputFiles[0]?.text ?? "";

const json = (status: number, body: unknown) => Response.json(body, { status });

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const [, api, chat, runId, action] = url.pathname.split("/");
  if (request.method === "GET" && url.pathname === "/")
    return new Response(PAGE, { headers: { "content-type": "text/html" } });
  if (request.method === "GET" && url.pathname === "/client.js")
    return new Response(CLIENT_JS, { headers: { "content-type": "text/javascript" } });
  if (api !== "api" || chat !== "chat") return json(404, { error: "not found" });

  if (request.method === "POST" && runId === undefined) {
    const { messages } = (await request.json()) as { messages: UIMessage[] };
    const run = await start(support, [messages]);
    return createAgentStreamResponse(run);
  }
  if (runId === undefined) return json(404, { error: "not found" });
  const run = getRun(runId);
  if (request.method === "GET" && action === "stream") {
    if ((await run.status.catch(() => undefined)) === undefined)
      return json(404, { error: `no run ${runId}` });
    return createAgentStreamResponse(run, { startIndex: startIndexOf(request.url) });
  }
  if (request.method === "POST" && action === "approvals") {
    const { approvals } = (await request.json()) as {
      approvals: { approvalId: string; approved: boolean; reason?: string }[];
    };
    for (const { approvalId, approved, reason } of approvals) {
      // An approval id is the token of a hook of this run: refuse one of another run.
      const hook = await getHookByToken(approvalId).catch(() => undefined);
      if (hook?.runId !== runId)
        return json(404, { error: `run ${runId} waits for no approval ${approvalId}` });
      await resumeHook(approvalId, { approved, ...(reason === undefined ? {} : { reason }) });
    }
    return json(202, { ok: true });
  }
  return json(404, { error: "not found" });
}

const server = createServer(toNodeListener(handle));
server.listen(Number(process.env.PORT ?? "3000"), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);
});
