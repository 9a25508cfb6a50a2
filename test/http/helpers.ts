/**
 * Shared by the HTTP tests: a real server on 127.0.0.1 and a random port (retried on
 * EADDRINUSE), a client that talks to it with or without the secret, and small waiting helpers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { expect } from "vitest";
import type { World } from "../../src/world/types.ts";

/** The secret the tests configure handlers with. */
export const SECRET = "test-secret-0123456789abcdef0123456789";

export interface Served {
  server: Server;
  origin: string;
  close(): Promise<void>;
}

/** Serves `listener` on 127.0.0.1 at a random port, trying another port when one is taken. */
export async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<Served> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const server = createServer(listener);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 50) continue;
      throw error;
    }
    return {
      server,
      origin: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}

/** Request options for `call`. */
export interface CallOptions {
  method?: string;
  /** A JSON body (sent with Content-Type: application/json). */
  json?: unknown;
  body?: RequestInit["body"];
  headers?: Record<string, string>;
  /** false: no Authorization header; a string: that secret. Default: the right secret. */
  auth?: boolean | string;
  signal?: AbortSignal;
}

/** Calls `origin + path`; returns the response (body unread). */
export function call(origin: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth ?? true;
  if (auth !== false) headers.authorization = `Bearer ${auth === true ? SECRET : auth}`;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const init: RequestInit & { duplex?: "half" } = {
    method: options.method ?? "GET",
    headers,
    body,
    signal: options.signal,
  };
  if (body instanceof ReadableStream) init.duplex = "half";
  return fetch(`${origin}${path}`, init);
}

/** The `{ error: { code, message } }` body of an error response, checked for shape. */
export async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.code).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error;
}

/** Polls `read` until `ok` holds (5 s at most). */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not reached in 5 s");
}

/** Everything a World holds about its runs, as comparable JSON: runs, logs, hooks, inbox, streams, steps, waits. */
export async function snapshotWorld(world: World): Promise<string> {
  const bytes = (_key: string, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
  const runs = (await world.runs.list({ limit: 1000 })).items;
  const out = [];
  for (const run of runs) {
    out.push({
      run: { ...run, lease: undefined, updatedAt: undefined, wakePending: undefined },
      events: await world.events.list(run.runId),
      hooks: await world.hooks.list({ runId: run.runId }),
      inbox: await world.inbox.list(run.runId),
      streams: await world.streams.list(run.runId),
      steps: await world.steps.list(run.runId),
      waits: await world.waits.list({ runId: run.runId }),
    });
  }
  return JSON.stringify(out, bytes);
}
