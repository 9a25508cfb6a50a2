// Server hooks. `init` runs once when the server starts (`node build`, `vite dev`): it loads the
// workflow files and starts the Stepwise worker in this process, so runs that were waiting when
// the server last stopped go on at once (STEPWISE_WORKER=0 leaves them to `npx stepwise worker`).
// `handle` mounts the run API (runs, streams, hooks, webhooks) under /stepwise.
import { startWorker } from "stepwise-workflows/vite";
import { runApi } from "$lib/server/stepwise.js";
import "$lib/server/order";

/** @type {import("@sveltejs/kit").ServerInit} */
export async function init() {
  await startWorker();
}

/** @type {import("@sveltejs/kit").Handle} */
export async function handle({ event, resolve }) {
  if (event.url.pathname === "/stepwise" || event.url.pathname.startsWith("/stepwise/")) {
    return runApi(event.request);
  }
  return resolve(event);
}
