/**
 * `GET /runs/:runId/streams/:name?startIndex=N`: a run's durable stream as NDJSON (`ndjson.ts`),
 * from chunk N (default 0; negative counts from the end), tailing live until the stream closes or
 * the run ends. A client that disconnects reconnects with `startIndex` = the last index it got + 1
 * and receives every later chunk exactly once. Refused before anything is sent: an unknown run
 * (404), a name that is not a plain stream name (400), a start past the end (416).
 */
import type { Client } from "../../client/client.ts";
import { StreamRangeError } from "../../errors/runtime.ts";
import { NotFoundError } from "../../errors/world.ts";
import { streamName } from "../../runtime/streams.ts";
import { toNdjson } from "../ndjson.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** The `startIndex` query parameter (default 0). 400 when it is not a whole number. */
function startParam(url: URL): number {
  const text = url.searchParams.get("startIndex");
  if (text === null || text === "") return 0;
  if (!/^-?\d{1,15}$/.test(text)) {
    throw new HttpProblem(
      400,
      "INVALID_QUERY",
      `startIndex must be a whole number (negative counts from the end), got "${text.slice(0, 50)}".`,
    );
  }
  return Number(text);
}

/** The absolute index to start from; `StreamRangeError` (416) past the end. */
async function resolveStart(client: Client, runId: string, name: string, start: number): Promise<number> {
  const world = await client.world();
  await world.runs.get(runId);
  const info = await world.streams.info(runId, name).catch((error: unknown) => {
    if (NotFoundError.is(error)) return undefined;
    throw error;
  });
  const length = info?.length ?? 0;
  const resolved = start < 0 ? Math.max(0, length + start) : start;
  if (resolved > length) {
    throw new StreamRangeError(
      `Stream "${name}" of run ${runId} has ${length} chunk(s); startIndex ${start} is past its end. Ask for 0 to ${length} (${length} waits for the next chunk), or a negative index to count from the end.`,
    );
  }
  return resolved;
}

/** 200 `application/x-ndjson`, streamed; the `x-stepwise-start-index` header has the resolved start. */
export async function readStream({
  request,
  url,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const runId = params.runId ?? "";
  const name = params.name ?? "";
  const start = startParam(url);
  streamName(name); // InvalidStreamNameError (400) before anything touches storage
  const from = await resolveStart(options.client, runId, name, start);
  const source = options.client.getRun(runId).getReadable({ namespace: name, startIndex: from });
  return new Response(toNdjson(source, from, request.signal), {
    status: 200,
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-accel-buffering": "no",
      "x-stepwise-start-index": String(from),
    },
  });
}
