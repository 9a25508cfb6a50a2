/**
 * `npx stepwise server` (and `npx stepwise web`) as a library: one `node:http` server that serves,
 * over one World, the run API (`stepwise-workflows/http`, under `/stepwise`), the worker protocol
 * (under `/stepwise/protocol/`, docs/protocol.md), an unauthenticated `GET /health`, and the
 * dashboard at every other path (`static.ts`: its files need no secret; its data comes from the
 * run API, which does). `close()` shuts
 * down gracefully: no new connections, long polls and notification streams answered at once,
 * requests in flight given `graceMs` to finish, then the World closed. Several servers may share
 * one PostgreSQL World: they keep nothing of their own but worker registrations, which workers
 * renew with every lease.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Client, createClient } from "../client/client.ts";
import { toNodeListener } from "../http/adapters/node.ts";
import { createHandler } from "../http/handler.ts";
import { PROTOCOL_VERSIONS } from "../protocol/operations.ts";
import type { World } from "../world/types.ts";
import { createProtocolHandler, type ProtocolHandler } from "./protocol-handler.ts";
import { createStaticHandler } from "./static.ts";

export interface ServerOptions {
  /** The World every route serves. */
  world: World;
  /**
   * The client the run API writes through; default a client of `world` (`createClient`) that
   * knows the workflows workers registered with this server (for starting them by name).
   */
  client?: Client;
  /** Interface to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 4100; 0 picks a free one). */
  port?: number;
  /** The bearer secret (default STEPWISE_HTTP_SECRET). */
  secret?: string;
  /** How long requests in flight may take to finish on `close()` (default 10 s). */
  graceMs?: number;
  /** The folder of the built dashboard (default `dist/web/` of the package). */
  webRoot?: string;
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:4100`. */
  url: string;
  server: Server;
  protocol: ProtocolHandler;
  /** Graceful shutdown; resolves once the World is closed. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 4100;

/** Starts listening; rejects (EADDRINUSE, EACCES…) when the port cannot be had. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { world } = options;
  const started = Date.now();
  const secret = options.secret ?? process.env.STEPWISE_HTTP_SECRET;
  const protocol = createProtocolHandler({ world, ...(secret === undefined ? {} : { secret }) });
  const api = createHandler({
    basePath: "/stepwise",
    // Its run API finds a workflow by name among those the workers registered here, too.
    client: options.client ?? createClient({ world, liveWorkflows: async () => protocol.workflows() }),
    ...(secret === undefined ? {} : { secret }),
  });
  const serveProtocol = protocol.listener;
  const serveApi = toNodeListener(api);
  const serveDashboard = toNodeListener(createStaticHandler(options.webRoot));
  // noDelay: hints on the notification stream and small answers leave at once (no Nagle wait).
  const server = createServer({ noDelay: true }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === protocol.prefix || path.startsWith(`${protocol.prefix}/`)) return serveProtocol(req, res);
    if (path === "/health" && (req.method === "GET" || req.method === "HEAD")) {
      const body = JSON.stringify({
        ok: true,
        world: world.name,
        protocol: PROTOCOL_VERSIONS,
        uptimeMs: Date.now() - started,
        ...protocol.stats(),
      });
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (path === api.basePath || path.startsWith(`${api.basePath}/`)) return serveApi(req, res);
    serveDashboard(req, res);
  });
  // Long polls last up to a minute: keep connections between them open a little longer.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? DEFAULT_PORT, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    server,
    protocol,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        protocol.close();
        // The run API's live streams (GET /stepwise/live) end now, like the protocol's.
        api.close();
        // Kept-alive connections go as soon as they are idle: those answering right now (a long
        // poll just ended, a request in flight) become idle when their answer is sent.
        server.closeIdleConnections();
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const grace = new Promise<void>((resolve) => setTimeout(resolve, options.graceMs ?? 10_000).unref());
        await Promise.race([stopped, grace]);
        clearInterval(sweep);
        server.closeAllConnections();
        await world.close();
      })();
      return closing;
    },
  };
}
