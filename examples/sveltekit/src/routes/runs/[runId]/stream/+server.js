// The page's progress feed: the run API's stream route (GET /stepwise/runs/:runId/streams/default),
// called in-process with the API secret, so the browser never holds the secret.
import { env } from "$env/dynamic/private";
import { runApi } from "$lib/server/stepwise.js";

/** @type {import("./$types").RequestHandler} */
export function GET({ params, url, request }) {
  const target = new URL(`/stepwise/runs/${encodeURIComponent(params.runId)}/streams/default`, url);
  target.search = url.search; // ?startIndex= when the page reconnects
  return runApi(
    new Request(target, {
      headers: { authorization: `Bearer ${env.STEPWISE_HTTP_SECRET ?? ""}` },
      signal: request.signal,
    }),
  );
}
