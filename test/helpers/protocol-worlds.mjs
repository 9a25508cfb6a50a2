// A real server process for the remote World's conformance run: it serves the worker protocol
// (dist/server/protocol-handler.js, the code `npx stepwise server` serves) for many Worlds at
// once, one per test, each under its own base path `/w/<n>/stepwise`, so that every test gets an
// empty World without a process start. `POST /new?kind=memory|local` makes one and answers its
// URL; `POST /drop/<n>` closes it. Prints `listening <port>` when ready. Run with `node`.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toNodeListener } from "../../dist/http/adapters/node.js";
import { createProtocolHandler } from "../../dist/server/protocol-handler.js";
import { createLocalWorld } from "../../dist/worlds/local/index.js";
import { createMemoryWorld } from "../../dist/worlds/memory/index.js";

const worlds = new Map();
let next = 0;
let port = 0;

async function open(kind) {
  const n = ++next;
  let dir;
  let world;
  if (kind === "local") {
    dir = mkdtempSync(join(tmpdir(), "stepwise-protocol-"));
    world = createLocalWorld({ dataDir: dir });
  } else {
    world = createMemoryWorld();
  }
  const handler = createProtocolHandler({ world, basePath: `/w/${n}/stepwise` });
  worlds.set(n, { world, handler, listener: toNodeListener(handler), dir });
  return { url: `http://127.0.0.1:${port}/w/${n}/stepwise` };
}

async function drop(n) {
  const entry = worlds.get(n);
  if (entry === undefined) return;
  worlds.delete(n);
  entry.handler.close();
  await entry.world.close().catch(() => undefined);
  if (entry.dir) rmSync(entry.dir, { recursive: true, force: true });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.method === "POST" && url.pathname === "/new") {
    open(url.searchParams.get("kind") ?? "memory").then(
      (body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)),
      (error) => res.writeHead(500).end(String(error)),
    );
    return;
  }
  const dropped = /^\/drop\/(\d+)$/.exec(url.pathname);
  if (req.method === "POST" && dropped) {
    drop(Number(dropped[1])).then(() => res.writeHead(204).end());
    return;
  }
  const match = /^\/w\/(\d+)\//.exec(url.pathname);
  const entry = match ? worlds.get(Number(match[1])) : undefined;
  if (entry === undefined) {
    res.writeHead(404).end();
    return;
  }
  entry.listener(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  port = server.address().port;
  process.stdout.write(`listening ${port}\n`);
});
