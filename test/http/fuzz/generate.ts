/**
 * Random requests for the fuzz test: methods, paths (traversal attempts, encodings, real and
 * forged ids and tokens), query strings, headers, content types and bodies (valid and broken JSON,
 * random bytes, deep nesting, huge bodies). One rule keeps the fuzzing honest: a request that
 * carries the right secret never names an existing run or token anywhere in its URL, and no
 * request ever names a webhook token, so any change to an existing run is a bug, not a legitimate
 * call. Requests with the right secret do read existing runs through the read-only routes.
 */
import { isFullWorkflowId } from "../../../src/client/workflow-name.ts";
import type { Random } from "./random.ts";

/** What the fuzzer knows about the World it attacks. */
export interface Targets {
  secret: string;
  /** Ids of the runs that must stay intact. */
  runIds: string[];
  /** Tokens of plain hooks (never usable through webhook URLs). */
  hookTokens: string[];
  /** Registered workflow names, never sent (starting a run would be a legitimate change). */
  workflowNames: string[];
}

export interface FuzzRequest {
  method: string;
  /** Path and query, possibly malformed. */
  target: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Whether it carries the right secret. */
  authorized: boolean;
  /** Sent as raw bytes on a socket instead of through fetch. */
  raw?: Uint8Array;
}

const METHODS = [
  "GET",
  "GET",
  "POST",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "HEAD",
  "PROPFIND",
  "X-FUZZ",
];
const BASES = [
  "/stepwise",
  "/stepwise",
  "/stepwise",
  "/Stepwise",
  "/stepwise/",
  "",
  "/stepwise%2f",
  "/%73tepwise",
];
const WORDS = [
  "runs",
  "hooks",
  "webhooks",
  "streams",
  "health",
  "cancel",
  "events",
  "result",
  "default",
  "logs",
];
const NASTY = [
  "..",
  ".",
  "%2e%2e",
  "%2E%2e",
  ".%2e",
  "..%2F",
  "..%2f..%2fetc%2fpasswd",
  "%2e%2e%5c",
  "..\\..\\",
  "%00",
  "a%00b",
  "%zz",
  "%",
  "%ff%fe",
  "%c0%ae%c0%ae",
  "%u002e",
  "\u00e9",
  "%F0%9F%98%80",
  "",
  ";",
  "..;",
  "%3f",
  "%23",
  "~",
  "*",
  "%24%7Bx%7D",
  "<script>",
  "'or'1'='1",
  "CON",
  "aux.txt",
  "%0d%0aSet-Cookie:x=1",
];
const CONTENT_TYPES = [
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=UTF-8",
  "application/json; charset=latin1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/x-ndjson",
  "",
  "application/jsonp",
  "*/*",
  "application/json;;;",
];

function identity(random: Random, t: Targets, authorized: boolean): string {
  const fake = (): string =>
    random.pick([
      `wrun_${random.string(26, "0123456789ABCDEFGHJKMNPQRSTVWXYZ")}`,
      random.string(1 + random.int(40)),
      `hook_${random.string(20)}`,
      random.string(32, "0123456789abcdefghijklmnopqrstuvwxyz"),
    ]);
  if (authorized || random.chance(0.4)) return encodeURIComponent(fake());
  return encodeURIComponent(random.pick([...t.runIds, ...t.hookTokens]));
}

function segment(random: Random, t: Targets, authorized: boolean): string {
  const roll = random.next();
  if (roll < 0.4) return random.pick(WORDS);
  if (roll < 0.65) return random.pick(NASTY);
  if (roll < 0.85) return identity(random, t, authorized);
  return random.chance(0.05) ? "x".repeat(2000 + random.int(6000)) : random.string(random.int(20));
}

/** A route-shaped path under the real base path, and the method that route takes. */
function routeShape(random: Random, t: Targets, authorized: boolean): [string, string] {
  const id = identity(random, t, authorized);
  return random.pick<[string, string]>([
    ["POST", "/runs"],
    ["POST", "/runs"],
    ["GET", `/runs/${id}`],
    ["POST", `/runs/${id}/cancel`],
    ["POST", `/runs/${id}/events`],
    ["GET", `/runs/${id}/result`],
    ["GET", `/runs/${id}/streams/${random.pick(NASTY)}`],
    ["GET", `/runs/${id}/streams/default`],
    ["POST", `/hooks/${id}`],
    ["POST", `/hooks/${id}`],
    [random.pick(METHODS), `/webhooks/${id}`],
    ["GET", "/health"],
  ]);
}

function path(random: Random, t: Targets, authorized: boolean): string {
  let rest = random.chance(0.5) ? routeShape(random, t, authorized)[1] : "";
  const extra = random.chance(0.5) ? random.int(5) : 0;
  for (let i = 0; i < extra; i++) rest += `/${segment(random, t, authorized)}`;
  if (rest === "" || random.chance(0.1)) rest = `/${segment(random, t, authorized)}${rest}`;
  return `${random.pick(BASES)}${rest}`;
}

function query(random: Random): string {
  if (random.chance(0.5)) return "";
  const value = (): string =>
    random.pick([
      String(random.int(400)),
      String(-random.int(50)),
      "0",
      "-0",
      "1e3",
      "abc",
      "",
      "%00",
      "99999999999999999999999",
      "NaN",
      "Infinity",
      random.string(random.int(30)),
      "1.5",
      "0x10",
    ]);
  const parts: string[] = [];
  for (let i = 0; i < 1 + random.int(3); i++)
    parts.push(`${random.pick(["wait", "startIndex", "x", "wait", "__proto__"])}=${value()}`);
  return `?${parts.join("&")}`;
}

function json(random: Random, depth: number): unknown {
  const roll = random.int(depth > 3 ? 5 : 9);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1]);
    case 3:
      return random.string(random.int(40));
    case 4:
      return random.pick(["", "wrun_", "__proto__", "constructor", "\u0000"]);
    case 5:
      return Array.from({ length: random.int(5) }, () => json(random, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < random.int(5); i++)
        out[
          random.pick(["workflow", "args", "payload", "type", "__proto__", "constructor", random.string(6)])
        ] = json(random, depth + 1);
      return out;
    }
  }
}

/**
 * A workflow name that is not registered, nor a full id (starting a registered one, or one by its
 * full id, would be a real change).
 */
function workflowName(random: Random, t: Targets): string {
  const name = random.pick([
    random.string(random.int(30)),
    `${random.pick(t.workflowNames)}${random.string(1 + random.int(3))}`,
    "../greeter",
    "workflow//",
    "",
  ]);
  // A full id is taken as it is (a workflow without code here, e.g. a Python one): never send one.
  if (isFullWorkflowId(name)) return `x${name}`;
  return t.workflowNames.some((known) => known === name || known.endsWith(`//${name}`))
    ? `${name}-not`
    : name;
}

function body(random: Random, t: Targets): Uint8Array {
  const text = (value: string): Uint8Array => new TextEncoder().encode(value);
  const roll = random.int(10);
  if (roll === 0) return new Uint8Array(0);
  if (roll === 1) return random.bytes(random.int(200));
  if (roll === 2) {
    const depth = 1 + random.int(40_000);
    return text(`${"[".repeat(depth)}${random.chance(0.5) ? "]".repeat(depth) : ""}`);
  }
  if (roll === 3) return new Uint8Array(64 * 1024 + random.int(3 * 1024 * 1024)).fill(0x7b);
  const value = random.chance(0.5)
    ? { workflow: workflowName(random, t), args: json(random, 0) }
    : random.chance(0.7)
      ? { payload: json(random, 0) }
      : json(random, 0);
  const full = JSON.stringify(value) ?? "null";
  return text(roll === 4 ? full.slice(0, random.int(full.length + 1)) : full);
}

function headers(random: Random, t: Targets, authorized: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (authorized) out.authorization = `${random.pick(["Bearer", "bearer", "BEARER"])} ${t.secret}`;
  else if (!random.chance(0.3)) {
    out.authorization = random.pick([
      `Bearer ${t.secret.slice(0, -1)}`,
      `Bearer ${t.secret}x`,
      `Bearer  ${t.secret.toUpperCase()}`,
      `Basic ${t.secret}`,
      t.secret,
      "Bearer",
      `Bearer ${random.string(random.int(100), "abcdef0123456789")}`,
      `Bearer ${"a".repeat(8000)}`,
    ]);
  }
  const type = random.pick(CONTENT_TYPES);
  if (type !== "" && random.chance(0.8)) out["content-type"] = type;
  if (random.chance(0.3))
    out[random.pick(["x-forwarded-for", "x-http-method-override", "origin", "accept", "x-stepwise"])] =
      random.string(random.int(50), "abcdefghijklmnopqrstuvwxyz0123456789 ,;=/");
  return out;
}

function rawRequest(random: Random, t: Targets): Uint8Array {
  const id = identity(random, t, false);
  const line = random.pick([
    `GET /stepwise/runs/${id} HTTP/1.1`,
    `POST /stepwise/runs HTTP/1.1`,
    `GET http://evil.example/stepwise/health HTTP/1.1`,
    `GET //stepwise/health HTTP/1.1`,
    `OPTIONS * HTTP/1.1`,
    `GET /stepwise/${"a".repeat(20_000)} HTTP/1.1`,
    "GARBAGE",
    `GET /stepwise/runs/${id}/streams/default HTTP/1.0`,
    `POST /stepwise/webhooks/${id} HTTP/1.1`,
    `\u0000\u0001\u0002`,
  ]);
  const framing = random.pick([
    "Content-Length: 10\r\n\r\nabc",
    "Content-Length: -1\r\n\r\n",
    "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    "X-Bad\u0000Header: 1\r\n\r\n",
    "\r\n",
    `Authorization: Bearer ${t.secret.slice(1)}\r\n\r\n`,
    "Content-Length: 99999999999\r\n\r\n{",
  ]);
  return new TextEncoder().encode(`${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${framing}`);
}

/** An authorized read of an existing run: only GET, only the read-only routes. */
function readExisting(random: Random, t: Targets): FuzzRequest {
  const id = encodeURIComponent(random.pick(t.runIds));
  const target = random.pick([
    `/stepwise/runs/${id}`,
    `/stepwise/runs/${id}/result?wait=${random.int(100)}`,
    `/stepwise/runs/${id}/streams/${random.pick(["default", "logs", ...NASTY])}?startIndex=${random.int(10) - 5}`,
  ]);
  return { method: "GET", target, headers: { authorization: `Bearer ${t.secret}` }, authorized: true };
}

/** Request `index` of the fuzzing run. */
export function generate(random: Random, t: Targets): FuzzRequest {
  if (random.chance(0.08)) return readExisting(random, t);
  const authorized = random.chance(0.35);
  if (random.chance(0.04)) {
    return { method: "RAW", target: "", headers: {}, authorized: false, raw: rawRequest(random, t) };
  }
  // Half the requests aim at a real route (right base, right shape, mostly the right method), so
  // they get past the router into auth, body parsing and the run API; the rest are chaos.
  let method = random.pick(METHODS);
  let target = path(random, t, authorized);
  if (random.chance(0.5)) {
    const [routeMethod, routePath] = routeShape(random, t, authorized);
    if (random.chance(0.8)) method = routeMethod;
    target = `/stepwise${routePath}`;
  }
  const request: FuzzRequest = {
    method,
    target: `${target}${query(random)}`,
    headers: headers(random, t, authorized),
    authorized,
  };
  if (method !== "GET" && method !== "HEAD" && random.chance(0.85)) request.body = body(random, t);
  return request;
}
