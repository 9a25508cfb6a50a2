/**
 * Every kind of value a payload must carry (DESIGN.md §6), one factory per case so each test gets
 * fresh values. Used by the codec's unit tests and by the host → sandbox → host round trips.
 */
import { FatalError, RetryableError } from "../../src/errors/user.ts";

function withCause(): Error {
  const root = new RangeError("disk full");
  const middle = new Error("write failed", { cause: root });
  return new Error("saving order 7 failed", { cause: middle });
}

function withProps(): Error {
  const error = new Error("payment declined") as Error & Record<string, unknown>;
  error.statusCode = 402;
  error.details = { card: "visa", tries: [1, 2] };
  error.when = new Date(1_700_000_000_000);
  return error;
}

class ValidationError extends Error {
  override name = "ValidationError";
  field = "email";
}

function shared(): unknown {
  const item = { sku: "A-1" };
  return { first: item, second: item, list: [item, item] };
}

function cyclicObject(): unknown {
  const node: Record<string, unknown> = { name: "root" };
  node.self = node;
  node.children = [{ parent: node }];
  return node;
}

function cyclicMap(): unknown {
  const map = new Map<string, unknown>();
  map.set("me", map);
  const set = new Set<unknown>();
  set.add(set);
  map.set("set", set);
  return map;
}

function cyclicArray(): unknown {
  const list: unknown[] = [1];
  list.push(list);
  return list;
}

function sparse(): unknown {
  // biome-ignore lint/suspicious/noSparseArray: the hole is the point
  return [1, , 3];
}

function verySparse(): unknown {
  const list: number[] = [];
  list[1000] = 1;
  list[5] = 5;
  return list;
}

function nullProto(): unknown {
  const inner = Object.assign(Object.create(null), { deep: true });
  return Object.assign(Object.create(null), { a: 1, nested: inner });
}

function buffer(): ArrayBuffer {
  return Uint8Array.from([0, 1, 2, 250, 255]).buffer;
}

function view<T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T): T {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) & 0xff;
  return make(bytes.buffer, 8, 2);
}

export const CASES: ReadonlyArray<readonly [string, () => unknown]> = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["booleans", () => [true, false]],
  ["numbers", () => [0, 1.5, -7, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE]],
  ["-0", () => -0],
  ["NaN", () => Number.NaN],
  ["Infinity and -Infinity", () => [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
  ["BigInt", () => [0n, -1n, 2n ** 200n, -(2n ** 64n)]],
  ["strings", () => ["", "plain", "é😀\u2028\u2029\u0000", "</script>", "\ud800 lone surrogate"]],
  ["Date", () => new Date(1_700_000_000_123)],
  ["Date (epoch, far future, before 1970)", () => [new Date(0), new Date(8.64e15), new Date(-1)]],
  ["invalid Date", () => new Date(Number.NaN)],
  [
    "RegExp with flags",
    // biome-ignore lint/complexity/useRegexLiterals: a /v literal needs an es2024 target to type-check
    () => [/a+b/dgimsy, /x/u, new RegExp("[\\p{L}--[a-z]]", "v"), /\/path\\/],
  ],
  [
    "Map (object keys, nested)",
    () =>
      new Map<unknown, unknown>([
        ["a", 1],
        [{ key: true }, new Map([[1n, "big"]])],
        [undefined, null],
      ]),
  ],
  ["Set", () => new Set<unknown>([1, "1", 1n, undefined, { x: 1 }])],
  ["Int8Array", () => Int8Array.from([-128, 0, 127])],
  ["Uint8Array", () => Uint8Array.from([0, 128, 255])],
  ["Uint8ClampedArray", () => Uint8ClampedArray.from([0, 300, -5])],
  ["Int16Array", () => Int16Array.from([-32768, 32767])],
  ["Uint16Array", () => Uint16Array.from([0, 65535])],
  ["Int32Array", () => Int32Array.from([-(2 ** 31), 2 ** 31 - 1])],
  ["Uint32Array", () => Uint32Array.from([0, 2 ** 32 - 1])],
  ["Float32Array", () => Float32Array.from([1.5, Number.NaN, -0, Number.POSITIVE_INFINITY])],
  ["Float64Array", () => Float64Array.from([Math.PI, -0, Number.NaN])],
  ["BigInt64Array", () => BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n])],
  ["BigUint64Array", () => BigUint64Array.from([0n, 2n ** 64n - 1n])],
  ["typed array over part of a buffer", () => view((b, o, n) => new Uint32Array(b, o, n))],
  ["ArrayBuffer", buffer],
  ["empty ArrayBuffer", () => new ArrayBuffer(0)],
  ["DataView", () => new DataView(buffer())],
  ["DataView over part of a buffer", () => view((b, o, n) => new DataView(b, o, n * 4))],
  ["URL", () => new URL("https://user:pw@example.com:8443/a/b?q=1&q=2#frag")],
  ["URLSearchParams", () => new URLSearchParams("a=1&a=2&b=%20x")],
  [
    "Headers",
    () =>
      new Headers([
        ["content-type", "application/json"],
        ["x-multi", "a"],
        ["x-multi", "b"],
      ]),
  ],
  ["Error", () => new Error("boom")],
  ["TypeError", () => new TypeError("not a function")],
  ["Error with a cause chain", withCause],
  ["Error with a non-error cause", () => new Error("wrapped", { cause: { code: 7, at: new Date(5) } })],
  ["Error with custom properties", withProps],
  ["Error subclass (by name)", () => new ValidationError("bad email")],
  ["AggregateError", () => new AggregateError([new Error("one"), new TypeError("two")], "both failed")],
  ["FatalError", () => new FatalError("no retry")],
  [
    "RetryableError with retryAfter",
    () => new RetryableError("later", { retryAfter: new Date(1_800_000_000_000) }),
  ],
  ["errors inside data", () => ({ errors: [new Error("a"), new RangeError("b")] })],
  ["shared references", shared],
  ["cyclic object", cyclicObject],
  ["cyclic array", cyclicArray],
  ["cyclic Map and Set", cyclicMap],
  ["sparse array", sparse],
  ["very sparse array", verySparse],
  ["null-prototype objects", nullProto],
  ["boxed primitives", () => [Object(1), Object("s"), Object(false), Object(2n)]],
  [
    "everything nested",
    () => ({
      when: new Date(3),
      tags: new Set(["a"]),
      index: new Map([["k", [new Uint8Array([1]), /r/g]]]),
      url: new URL("https://example.com"),
      nothing: undefined,
      list: [null, undefined, -0, Number.NaN, 1n],
    }),
  ],
];
