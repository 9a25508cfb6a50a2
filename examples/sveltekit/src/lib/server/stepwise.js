// The run API (stepwise-workflows/http) of this server process, mounted under /stepwise by
// hooks.server.js; the progress route calls it in-process with the secret. Its routes need
// STEPWISE_HTTP_SECRET (webhook URLs excepted).
import { createHandler } from "stepwise-workflows/http";

/** The run API's handler: a Request in, a Response out (created on first use). */
let handler;
export function runApi(request) {
  handler ??= createHandler({ basePath: "/stepwise" });
  return handler(request);
}
