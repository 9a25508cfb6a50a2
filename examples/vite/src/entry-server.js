// The server side of the example: the page, and a small JSON API that starts and reads runs.
// Loaded by server.js, through Vite in dev (ssrLoadModule) and from dist/server when built.
import { getRun, start } from "stepwise-workflows/api";
import { signup } from "./workflows/signup.ts";

/** The HTML page (the client script is Vite's concern: /src/main.js in dev, the built asset else). */
export function render(clientScript) {
  return `<!doctype html><html><head><title>Stepwise on Vite</title></head><body>
<h1>Sign up</h1><form id="signup"><input name="email" value="ada@example.com"><button>Sign up</button></form>
<pre id="out"></pre><script type="module" src="${clientScript}"></script></body></html>`;
}

/** POST /api/signup {email} starts a run; GET /api/runs/:id says how it is doing. */
export async function api(method, path, body) {
  if (method === "POST" && path === "/api/signup") {
    const run = await start(signup, [String(body.email)]);
    return { status: 201, json: { runId: run.runId } };
  }
  const match = /^\/api\/runs\/([^/]+)$/.exec(path);
  if (method === "GET" && match) {
    const run = getRun(decodeURIComponent(match[1]));
    const status = await run.status;
    return { status: 200, json: { status, output: status === "completed" ? await run.returnValue : null } };
  }
  return { status: 404, json: { error: "not found" } };
}
