// The page's progress feed: the run API's stream route (GET /stepwise/runs/:runId/streams/default),
// called on the server with the API secret, so the browser never holds the secret.
import { GET as stepwise } from "stepwise-workflows/next";

export async function GET(request, { params }) {
  const { runId } = await params;
  const url = new URL(`/stepwise/runs/${encodeURIComponent(runId)}/streams/default`, request.url);
  url.search = new URL(request.url).search; // ?startIndex= when the page reconnects
  return stepwise(
    new Request(url, {
      headers: { authorization: `Bearer ${process.env.STEPWISE_HTTP_SECRET ?? ""}` },
      signal: request.signal,
    }),
  );
}
