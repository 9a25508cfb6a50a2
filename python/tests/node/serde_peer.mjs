/**
 * The TypeScript side of the Python SDK's cross-language payload tests: a real Node process
 * running the engine's built serde (dist/serde, `npm run build` first). It reads one JSON request
 * on stdin and writes one JSON answer on stdout:
 *
 *   roundtrip: [text]                         each text decoded and encoded again, and what the
 *                                             decoded value is (its kind, for the test to check)
 *   open: [{runId, place, bytes, encrypted}]  each payload (base64) opened to its text
 *   seal: [{runId, place, text, encrypted}]   each text sealed to payload bytes (base64)
 *   corpus: true                              texts of values built here, in TypeScript
 *
 * `key` (hex) is the current encryption key for open and seal; without it payloads are plain.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "dist", "serde");
const load = (name) => import(pathToFileURL(join(dist, name)).href);
const { decodeValue, encodeValue } = await load("codec.js");
const { createPayloadCodec } = await load("payload.js");
const { createKeyring, parseEncryptionKey } = await load("keys.js");

const request = JSON.parse(readFileSync(0, "utf8"));
const keyring =
  request.key === undefined
    ? createKeyring(undefined)
    : createKeyring(parseEncryptionKey(request.key, "the test key"));
const payloads = createPayloadCodec({ keyring });
const scope = (item) => ({ runId: item.runId, encrypted: item.encrypted, specVersion: 5 });

function kind(value) {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  if (value instanceof Error) return `Error:${value.name}`;
  return Object.prototype.toString.call(value).slice(8, -1);
}

const answer = {};
if (request.roundtrip) {
  answer.roundtrip = request.roundtrip.map((text) => {
    const value = decodeValue(text);
    return { text: encodeValue(value), kind: kind(value) };
  });
}
if (request.open) {
  answer.open = request.open.map((item) =>
    payloads.decode(scope(item), item.place, new Uint8Array(Buffer.from(item.bytes, "base64"))),
  );
}
if (request.seal) {
  answer.seal = request.seal.map((item) =>
    Buffer.from(payloads.encode(scope(item), item.place, item.text)).toString("base64"),
  );
}
if (request.corpus) {
  const shared = { shared: true };
  const sparse = [1];
  sparse[2] = 3; // a hole at index 1
  const cyclic = { name: "loop" };
  cyclic.self = cyclic;
  const cause = new RangeError("inner");
  const error = new TypeError("outer", { cause });
  error.code = "E_OUTER";
  const values = {
    "plain object": { a: 1, b: [true, null, "x"], 2: "index key", 1: "first" },
    numbers: [0, -0, 1.5, 1e21, 1e-7, 2 ** 53 - 1, 2 ** 53, NaN, Infinity, -Infinity, 0.1 + 0.2],
    bigints: [12345678901234567890n, -(2n ** 70n), 5n],
    undefined: [undefined, { gone: undefined }],
    date: new Date("2026-03-04T05:06:07.089Z"),
    map: new Map([
      ["a", 1],
      [2, "two"],
      [new Date(0), "epoch"],
    ]),
    "map with string keys": new Map([["k", "v"]]),
    set: new Set([3, 1, 2]),
    bytes: new Uint8Array([0, 1, 254, 255]),
    "typed arrays": [new Float64Array([1.5, -2]), new Int16Array([-1, 2])],
    url: new URL("https://example.com/path?q=1#frag"),
    "url search params": new URLSearchParams("a=1&b=two"),
    regexp: [/ab+c/i, /x/g, /(?<year>\d{4})/],
    error,
    headers: new Headers([
      ["Content-Type", "text/plain"],
      ["X-Many", "1"],
    ]),
    repeated: [shared, shared, "s", "s"],
    cyclic,
    "lone surrogate": "a\ud800b",
    escapes: 'quote " backslash \\ newline \n tab \t <script> \u2028 \u0001',
    "sparse array": sparse,
  };
  answer.corpus = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, encodeValue(value)]),
  );
}
process.stdout.write(JSON.stringify(answer));
