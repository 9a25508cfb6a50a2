/**
 * The worker protocol over a World (docs/protocol.md), as a `(Request) => Promise<Response>`
 * handler and as a `node:http` listener (`.listener`) that skips the web Request and Response
 * objects, which cost more than the rest of a call (the server uses it). Both call one core with
 * plain values. For each request, in this order: the secret (401 before anything else, so an
 * unauthenticated caller learns nothing, not even which routes exist), the protocol version in the
 * path, the operation, the body (size, JSON, schema: 413, 400), then the World call; World errors
 * become their status and stable code (`protocol/errors.ts`). A refused request changes nothing.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeListener } from "../http/adapters/node.ts";
import { createGuard } from "../http/auth.ts";
import { readBodyBytes } from "../http/body.ts";
import { HttpProblem } from "../http/problem.ts";
import { ProtocolError, worldErrorToWire } from "../protocol/errors.ts";
import { type Operation, operationKeys, operations, PROTOCOL_VERSIONS } from "../protocol/operations.ts";
import { decode, encodeJson, formatIssues, type WireIssue } from "../protocol/schema.ts";
import type { World } from "../world/types.ts";
import { openNotificationStream } from "./notification-stream.ts";
import { implementations, type OperationContext } from "./operations.ts";
import { Waiters } from "./waiters.ts";
import { WorkerRegistry } from "./workers.ts";

export interface ProtocolHandlerOptions {
  world: World;
  /** The bearer secret; default STEPWISE_HTTP_SECRET. Without one every request is refused (503). */
  secret?: string;
  /** Where the routes live (default `/stepwise`): operations are under `<basePath>/protocol/v1/`. */
  basePath?: string;
  /** Largest body accepted, in bytes (default 96 MB: a 50 MB payload as base64 and its envelope). */
  maxBodyBytes?: number;
  /** Told about unexpected failures (answered 500 with an error id). */
  onError?: (error: unknown, errorId: string) => void;
}

export interface ProtocolHandler {
  (request: Request): Promise<Response>;
  /** The same, as a `node:http` listener (faster: no web Request or Response on the way). */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Where the protocol lives, e.g. `/stepwise/protocol`. */
  readonly prefix: string;
  /** Requests waiting in long polls, and open notification streams (health, tests). */
  stats(): { waiting: number; streams: number; workers: number };
  /** Ends every long poll and notification stream (a graceful shutdown calls this first). */
  close(): void;
  /** The full ids of the workflows live workers registered, sorted (the run API resolves names with them). */
  workflows(): string[];
}

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};
/** The same as a flat list, which `writeHead` takes without walking an object's keys. */
const JSON_HEADER_LIST = Object.entries(JSON_HEADERS).flat();

/** Bodies are UTF-8 JSON; invalid UTF-8 is refused (the decoder is reused: it keeps no state between calls). */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A request as the core sees it, whichever server it came through. */
interface Call {
  method: string;
  pathname: string;
  header(name: string): string | null;
  /** The body's bytes, refused (413) past `limit`. */
  body(limit: number): Promise<Uint8Array>;
  signal: AbortSignal;
}

/** An answer: a JSON body, or (the notification stream) a streaming Response. */
type Answer = { status: number; body: string; headers?: Record<string, string> } | { stream: Response };

function json(status: number, body: unknown, headers?: Record<string, string>): Answer {
  return { status, body: encodeJson(body), ...(headers === undefined ? {} : { headers }) };
}

function refusal(
  status: number,
  code: string,
  message: string,
  extra: { details?: Record<string, unknown>; issues?: WireIssue[]; headers?: Record<string, string> } = {},
): Answer {
  const error: Record<string, unknown> = { code, message };
  if (extra.details !== undefined) error.details = extra.details;
  if (extra.issues !== undefined) error.issues = extra.issues.slice(0, 100);
  return json(status, { error }, extra.headers);
}

const MB = 1024 * 1024;

/** Reads a node request's body, refusing it (413) once it passes `limit` bytes. */
function readNodeBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    const tooLarge = () =>
      new HttpProblem(
        413,
        "BODY_TOO_LARGE",
        `The body is larger than the ${limit} byte limit of the worker protocol. Send less at once (fewer events, smaller chunks).`,
      );
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const parts: Buffer[] = [];
    let total = 0;
    req.on("data", (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge());
        return;
      }
      parts.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", (error) =>
      reject(
        new HttpProblem(
          400,
          "BODY_UNREADABLE",
          "The request body could not be read completely; send it again.",
          { cause: error },
        ),
      ),
    );
  });
}

/** Creates the handler; see `ProtocolHandlerOptions`. */
export function createProtocolHandler(options: ProtocolHandlerOptions): ProtocolHandler {
  const { world } = options;
  const base = (options.basePath ?? "/stepwise").replace(/\/+$/, "");
  const prefix = `${base}/protocol`;
  const guard = createGuard(options.secret ?? process.env.STEPWISE_HTTP_SECRET);
  const maxBodyBytes = options.maxBodyBytes ?? 96 * MB;
  const waiters = new Waiters(world);
  const workers = new WorkerRegistry();
  const streams = new Set<() => void>();
  const onError =
    options.onError ??
    ((error: unknown, errorId: string) =>
      console.error(`[stepwise protocol] request failed (${errorId})`, error));

  const run = async (call: Call): Promise<Answer> => {
    const path = call.pathname;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) {
      return refusal(
        404,
        "ROUTE_NOT_FOUND",
        `The worker protocol lives under ${prefix}/; ${path} is outside it.`,
      );
    }
    guard.checkAuthorization(call.header("authorization"));
    const rest = path.slice(prefix.length).replace(/^\/+/, "").replace(/\/+$/, "");
    if (rest === "") {
      if (call.method !== "GET")
        return refusal(405, "METHOD_NOT_ALLOWED", `${path} accepts GET.`, { headers: { allow: "GET" } });
      return json(200, { versions: [...PROTOCOL_VERSIONS] });
    }
    const slash = rest.indexOf("/");
    const version = slash === -1 ? rest : rest.slice(0, slash);
    const name = slash === -1 ? "" : rest.slice(slash + 1);
    if (!(PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
      return refusal(
        400,
        "PROTOCOL_VERSION_UNSUPPORTED",
        `This server does not speak protocol version "${version}"; it speaks ${PROTOCOL_VERSIONS.join(", ")} (${prefix}/${PROTOCOL_VERSIONS.at(-1)}/…). Upgrade the server, or use a worker that speaks one of those.`,
        { details: { versions: [...PROTOCOL_VERSIONS] } },
      );
    }
    if (name === "notifications") {
      if (call.method !== "GET")
        return refusal(405, "METHOD_NOT_ALLOWED", `${path} accepts GET.`, { headers: { allow: "GET" } });
      return { stream: openNotificationStream(world, call.signal, streams) };
    }
    const key = operationKeys.get(name);
    if (key === undefined) {
      return refusal(
        404,
        "OPERATION_NOT_FOUND",
        `Protocol ${version} has no operation "${name}". The operations are listed in docs/protocol.md.`,
      );
    }
    if (call.method !== "POST") {
      return refusal(405, "METHOD_NOT_ALLOWED", `${path} accepts POST with a JSON body.`, {
        headers: { allow: "POST" },
      });
    }
    const type = call.header("content-type") ?? "";
    if (!/^application\/json\b/i.test(type.trim())) {
      return refusal(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        `Send the body as JSON with "Content-Type: application/json" (got "${type}").`,
      );
    }
    const bytes = await call.body(maxBodyBytes);
    let value: unknown;
    try {
      value = bytes.byteLength === 0 ? {} : JSON.parse(utf8.decode(bytes));
    } catch (error) {
      return refusal(
        400,
        "INVALID_JSON",
        `The body is not valid UTF-8 JSON (${(error as Error).message}). Send one JSON object.`,
      );
    }
    const operation = operations[key];
    const decoded = decode(operation.request as Operation["request"], value);
    if ("issues" in decoded) {
      return refusal(
        400,
        "INVALID_BODY",
        `The body of ${name} does not match the protocol: ${formatIssues(decoded.issues)}.`,
        { issues: decoded.issues },
      );
    }
    const implementation = implementations[key] as (
      body: unknown,
      context: OperationContext,
    ) => Promise<unknown>;
    const context: OperationContext = {
      world,
      waiters,
      workers,
      get signal() {
        return call.signal; // made on first use (the node listener's is lazy)
      },
    };
    return json(200, await implementation(decoded.value, context));
  };

  const serve = async (call: Call): Promise<Answer> => {
    try {
      return await run(call);
    } catch (error) {
      if (error instanceof HttpProblem) {
        return refusal(error.status, error.code, error.message, { headers: error.headers });
      }
      if (error instanceof ProtocolError) return refusal(error.status, error.protocolCode, error.message);
      const wire = worldErrorToWire(error);
      if (wire !== undefined) {
        return refusal(
          wire.status,
          wire.code,
          wire.message,
          wire.details === undefined ? {} : { details: wire.details },
        );
      }
      const errorId = `err_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      onError(error, errorId);
      return refusal(
        500,
        "INTERNAL",
        `The server failed to answer (error id ${errorId}; its log has the details).`,
      );
    }
  };

  const handler = async (request: Request): Promise<Response> => {
    const answer = await serve({
      method: request.method,
      pathname: new URL(request.url).pathname,
      header: (name) => request.headers.get(name),
      body: (limit) => readBodyBytes(request, limit),
      signal: request.signal,
    });
    if ("stream" in answer) return answer.stream;
    return new Response(answer.body, {
      status: answer.status,
      headers: { ...JSON_HEADERS, ...answer.headers },
    });
  };

  const streaming = toNodeListener(handler);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const pathname = (req.url ?? "/").split("?")[0] ?? "/";
    // The notification stream stays open: it goes through the web handler and its streaming adapter.
    if (pathname.endsWith("/notifications")) {
      streaming(req, res);
      return;
    }
    const header = (name: string): string | null => {
      const value = req.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    };
    // The signal (aborted when the client goes away before its answer) is made only for the
    // operations that ask for it, those that wait: most calls (an append per step) never do.
    let abort: AbortController | undefined;
    serve({
      method: req.method ?? "GET",
      pathname,
      header,
      body: (limit) => readNodeBody(req, limit),
      get signal() {
        if (abort === undefined) {
          const controller = new AbortController();
          abort = controller;
          if (res.closed) controller.abort();
          else
            res.once("close", () => {
              if (!res.writableFinished) controller.abort();
            });
        }
        return abort.signal;
      },
    })
      .then((answer) => {
        if ("stream" in answer) return; // only the notification stream streams; it went the other way
        if (res.destroyed) return;
        // A body the call did not read (a refusal before reading it): close the connection after.
        const unread = !req.readableEnded && (req.headers["content-length"] ?? "0") !== "0";
        const headers = [...JSON_HEADER_LIST, "content-length", String(Buffer.byteLength(answer.body))];
        if (answer.headers !== undefined) headers.push(...Object.entries(answer.headers).flat());
        if (unread) headers.push("connection", "close");
        res.writeHead(answer.status, headers);
        res.end(answer.body);
      })
      .catch((error: unknown) => {
        console.error("[stepwise protocol] failed to send a response", error);
        res.destroy();
      });
  };

  return Object.assign(handler, {
    listener,
    prefix,
    stats: () => ({ waiting: waiters.size, streams: streams.size, workers: workers.list().length }),
    workflows: () => workers.workflows(),
    close: () => {
      waiters.close();
      for (const end of [...streams]) end();
    },
  });
}
