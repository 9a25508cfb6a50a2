/**
 * The worker protocol as one `(Request) => Promise<Response>` handler over a World
 * (docs/protocol.md). For each request, in this order: the secret (401 before anything else, so an
 * unauthenticated caller learns nothing, not even which routes exist), the protocol version in the
 * path, the operation, the body (size, JSON, schema: 413, 400), then the World call; World errors
 * become their status and stable code (`protocol/errors.ts`). A refused request changes nothing.
 */
import { createGuard } from "../http/auth.ts";
import { readBodyBytes } from "../http/body.ts";
import { HttpProblem } from "../http/problem.ts";
import { ProtocolError, worldErrorToWire } from "../protocol/errors.ts";
import { operations, operationsByPath, PROTOCOL_VERSIONS } from "../protocol/operations.ts";
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
  /** Where the protocol lives, e.g. `/stepwise/protocol`. */
  readonly prefix: string;
  /** Requests waiting in long polls, and open notification streams (health, tests). */
  stats(): { waiting: number; streams: number; workers: number };
  /** Ends every long poll and notification stream (a graceful shutdown calls this first). */
  close(): void;
}

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(encodeJson(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function refusal(
  status: number,
  code: string,
  message: string,
  extra: { details?: Record<string, unknown>; issues?: WireIssue[]; headers?: Record<string, string> } = {},
): Response {
  const error: Record<string, unknown> = { code, message };
  if (extra.details !== undefined) error.details = extra.details;
  if (extra.issues !== undefined) error.issues = extra.issues.slice(0, 100);
  return json(status, { error }, extra.headers);
}

const MB = 1024 * 1024;

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

  const run = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) {
      return refusal(
        404,
        "ROUTE_NOT_FOUND",
        `The worker protocol lives under ${prefix}/; ${path} is outside it.`,
      );
    }
    guard.check(request);
    const rest = path.slice(prefix.length).replace(/^\/+/, "").replace(/\/+$/, "");
    if (rest === "") {
      if (request.method !== "GET")
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
      if (request.method !== "GET")
        return refusal(405, "METHOD_NOT_ALLOWED", `${path} accepts GET.`, { headers: { allow: "GET" } });
      return openNotificationStream(world, request.signal, streams);
    }
    const operation = operationsByPath.get(name);
    if (operation === undefined) {
      return refusal(
        404,
        "OPERATION_NOT_FOUND",
        `Protocol ${version} has no operation "${name}". The operations are listed in docs/protocol.md.`,
      );
    }
    if (request.method !== "POST") {
      return refusal(405, "METHOD_NOT_ALLOWED", `${path} accepts POST with a JSON body.`, {
        headers: { allow: "POST" },
      });
    }
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/json\b/i.test(type.trim())) {
      return refusal(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        `Send the body as JSON with "Content-Type: application/json" (got "${type}").`,
      );
    }
    const bytes = await readBodyBytes(request, maxBodyBytes);
    let value: unknown;
    try {
      value =
        bytes.byteLength === 0 ? {} : JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (error) {
      return refusal(
        400,
        "INVALID_JSON",
        `The body is not valid UTF-8 JSON (${(error as Error).message}). Send one JSON object.`,
      );
    }
    const decoded = decode(operation.request, value);
    if ("issues" in decoded) {
      return refusal(
        400,
        "INVALID_BODY",
        `The body of ${name} does not match the protocol: ${formatIssues(decoded.issues)}.`,
        {
          issues: decoded.issues,
        },
      );
    }
    const key = (Object.keys(operations) as (keyof typeof operations)[]).find(
      (k) => operations[k].path === name,
    );
    const implementation = implementations[key as keyof typeof implementations] as (
      body: unknown,
      context: OperationContext,
    ) => Promise<unknown>;
    const answer = await implementation(decoded.value, { world, waiters, workers, signal: request.signal });
    return json(200, answer);
  };

  const handler = async (request: Request): Promise<Response> => {
    try {
      return await run(request);
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
  return Object.assign(handler, {
    prefix,
    stats: () => ({ waiting: waiters.size, streams: streams.size, workers: workers.list().length }),
    close: () => {
      waiters.close();
      for (const end of [...streams]) end();
    },
  });
}
