/**
 * Node's `http` (and `https`) server adapter: `toNodeListener(handler)` is a `(req, res)`
 * listener. It converts the request (`node-request.ts`), calls the handler, and streams the
 * response back with backpressure; when the client disconnects mid-response it cancels the
 * response stream (which stops a live stream tail) and aborts the request's signal.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { hasBody, toWebRequest } from "./node-request.ts";

/** A fetch-style handler, as `createHandler()` returns. */
export type FetchHandler = (request: Request) => Promise<Response>;

const BAD_TARGET = JSON.stringify({
  error: { code: "INVALID_PATH", message: "The request target is not a valid URL path." },
});

/** Resolves when `res` can take more data, or when the connection is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function writeHead(res: ServerResponse, response: Response, closeAfter: boolean): void {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (closeAfter) res.setHeader("connection", "close");
}

/** Marks "the first chunk was not ready at once" in `pipeBody`. */
const NOT_YET = Symbol("not yet");

/**
 * Copies the response body to `res`, stopping (and cancelling the body) if the client leaves.
 * When the first chunk is not ready at once (a live stream tail), the headers go out first, so
 * the client sees the response start.
 */
async function pipeBody(body: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = body.getReader();
  const onClose = (): void => {
    if (!res.writableFinished) void reader.cancel().catch(() => undefined);
  };
  res.once("close", onClose);
  try {
    const pending = reader.read();
    let chunk = await Promise.race([
      pending,
      new Promise<typeof NOT_YET>((resolve) => setImmediate(() => resolve(NOT_YET))),
    ]);
    if (chunk === NOT_YET) {
      res.flushHeaders();
      chunk = await pending;
    }
    while (!chunk.done && !res.destroyed) {
      if (!res.write(chunk.value)) await drained(res);
      chunk = await reader.read();
    }
    if (!res.destroyed) res.end();
  } catch (error) {
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    res.off("close", onClose);
    reader.releaseLock();
  }
}

/**
 * Serves one Node request with `handler`. `target` overrides `req.url` (Express passes
 * `originalUrl`). Never throws: a failure before the response starts is a 500, after it the
 * connection is closed.
 */
export async function serveNodeRequest(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  target?: string,
): Promise<void> {
  const request = toWebRequest(req, res, target);
  if (request === undefined) {
    res.writeHead(400, { "content-type": "application/json; charset=utf-8" }).end(BAD_TARGET);
    return;
  }
  let response: Response;
  try {
    response = await handler(request);
  } catch (error) {
    console.error("[stepwise http] the handler threw", error);
    response = Response.json(
      { error: { code: "INTERNAL", message: "The server failed to handle this request." } },
      { status: 500 },
    );
  }
  // A body the handler did not read to the end: close the connection after answering.
  const unread = hasBody(req) && !req.readableEnded;
  writeHead(res, response, unread);
  if (response.body === null || req.method === "HEAD") {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  await pipeBody(response.body, res);
}

/** A `(req, res)` listener for `http.createServer()` that serves every request with `handler`. */
export function toNodeListener(handler: FetchHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    serveNodeRequest(handler, req, res).catch((error: unknown) => {
      console.error("[stepwise http] failed to send a response", error);
      if (res.headersSent) res.destroy();
      else res.writeHead(500).end();
    });
  };
}
