// A real server process for the remote World's conformance run: it serves the worker protocol
// (dist/server/protocol-handler.js, the code `npx stepwise server` serves) for many Worlds at
// once, one per test, each under its own base path `/w/<n>/stepwise`, so that every test gets an
// empty World without a process start. `POST /new?kind=memory|local` makes one and answers its
// URL; `POST /drop/<n>` closes it. Every request and answer is validated against the OpenAPI file
// (docs/protocol.openapi.json) with a JSON Schema validator of its own; `GET /report` gives the
// violations and how often each operation was called. Prints `listening <port>` when ready.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { toNodeListener } from "../../dist/http/adapters/node.js";
import { createProtocolHandler } from "../../dist/server/protocol-handler.js";
import { createLocalWorld } from "../../dist/worlds/local/index.js";
import { createMemoryWorld } from "../../dist/worlds/memory/index.js";

const openapi = JSON.parse(
  readFileSync(new URL("../../docs/protocol.openapi.json", import.meta.url), "utf8"),
);
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ $id: "protocol", components: openapi.components });
const compiled = new Map();
function validator(schema) {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(key.replaceAll('"#/components', '"protocol#/components')));
    compiled.set(key, validate);
  }
  return validate;
}
const violations = [];
const calls = {};

/** The handler, checking what goes in and out against the OpenAPI file. */
function validating(handler, basePath) {
  return async (request) => {
    const path = new URL(request.url).pathname.slice(basePath.length);
    const spec = openapi.paths[path]?.[request.method.toLowerCase()];
    if (spec === undefined) return handler(request);
    calls[spec.operationId] = (calls[spec.operationId] ?? 0) + 1;
    let forward = request;
    if (spec.requestBody) {
      const text = await request.text();
      try {
        const validate = validator(spec.requestBody.content["application/json"].schema);
        if (!validate(JSON.parse(text)))
          violations.push({ operation: spec.operationId, request: validate.errors });
      } catch (error) {
        violations.push({ operation: spec.operationId, request: String(error) });
      }
      forward = new Request(request.url, {
        method: request.method,
        headers: request.headers,
        body: text,
        signal: request.signal,
      });
    }
    const response = await handler(forward);
    const expected = spec.responses[String(response.status)];
    if (expected === undefined) {
      violations.push({
        operation: spec.operationId,
        status: response.status,
        response: "undocumented status",
      });
      return response;
    }
    const schema = expected.content?.["application/json"]?.schema;
    if (schema !== undefined) {
      const text = await response.clone().text();
      const validate = validator(schema);
      if (!validate(JSON.parse(text))) {
        violations.push({ operation: spec.operationId, status: response.status, response: validate.errors });
      }
    }
    return response;
  };
}

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
  worlds.set(n, { world, handler, listener: toNodeListener(validating(handler, `/w/${n}`)), dir });
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
  if (req.method === "GET" && url.pathname === "/report") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ violations, calls }));
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
