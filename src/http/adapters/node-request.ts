/**
 * Node `IncomingMessage` → Web `Request`. The body streams (read on demand, with backpressure);
 * when the handler stops reading early (a body over the limit) the rest is drained and dropped
 * rather than destroying the socket, so the client still receives the refusal. The request's
 * `signal` aborts when the client disconnects before the response is complete.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Whether the request carries a body (per its framing headers). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    if (name.startsWith(":")) continue; // HTTP/2 pseudo-headers
    try {
      headers.append(name, raw[i + 1] ?? "");
    } catch {
      // A header the Fetch API cannot represent: leave it out rather than refuse the request.
    }
  }
  return headers;
}

/** The request body as a Web stream that pauses the socket while nobody reads. */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let stopped = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.pause();
        req.on("data", (chunk: Buffer) => {
          if (stopped) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once("end", () => {
          if (!stopped) controller.close();
        });
        req.once("error", (error) => {
          if (!stopped) controller.error(error);
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        // Keep the connection usable for the response: drop the rest of the body as it arrives.
        stopped = true;
        req.resume();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/** The origin to resolve the request target against (`Host`, or localhost when it is unusable). */
function originOf(req: IncomingMessage): string {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = req.headers.host;
  const safeHost = host !== undefined && /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host) ? host : "localhost";
  return `${secure ? "https" : "http"}://${safeHost}`;
}

/**
 * Builds the Web `Request` for `req`; `target` overrides `req.url` (Express mounts rewrite it).
 * Returns undefined when the target is not a usable URL.
 */
export function toWebRequest(
  req: IncomingMessage,
  res: ServerResponse,
  target = req.url ?? "/",
): Request | undefined {
  let url: URL;
  try {
    // Origin-form ("/path", even "//path") stays a path; absolute-form ("http://h/path") keeps its path.
    url = target.startsWith("/") ? new URL(`${originOf(req)}${target}`) : new URL(target, originOf(req));
  } catch {
    return undefined;
  }
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = {
    method,
    headers: headersOf(req),
    signal: controller.signal,
  };
  if (method !== "GET" && method !== "HEAD" && hasBody(req)) {
    init.body = bodyOf(req);
    init.duplex = "half";
  }
  return new Request(url, init);
}
