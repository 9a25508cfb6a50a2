/**
 * Determinism for workflow code. Each run gets its own `Math`, `Date`, `crypto`, `performance`,
 * `console` and `globalThis`, which its bundle sees as lexical bindings (see `runtime/registry.ts`,
 * which wraps every bundle): `Math.random` and `crypto` draw from the run's seeded generator, `Date`
 * and `performance.now` read the run's clock (which the host moves to each replayed event's time),
 * and properties a run sets on `globalThis` stay with that run. Because every binding belongs to
 * one run, the workflows of many runs can interleave in one realm without sharing anything.
 *
 * The realm's real global intrinsics, reachable only by escaping the lexical bindings, answer for
 * the run being evaluated and otherwise throw. Timers and the global `fetch` throw an error naming
 * the durable alternative.
 *
 * Runs inside the sandbox (bundled into the prelude): no Node imports.
 */
import { SandboxViolationError } from "../errors/runtime.ts";
import type { Prng } from "../util/prng.ts";

export interface Clock {
  now: number;
  /** The run's creation time, where `performance.now()` counts from. */
  origin: number;
}

/** What the determinism shims of one run read. */
export interface DeterminismSource {
  clock: Clock;
  prng: Prng;
}

type Global = Record<string, unknown>;
type ConsoleLevel = "log" | "info" | "warn" | "error" | "debug";

/** The realm's own Date, captured before `guardRealm` replaces the global one. */
const RealDate = globalThis.Date;

/** The names every bundle sees as lexical bindings, in the order `runGlobals` returns them. */
export const RUN_GLOBAL_NAMES = ["globalThis", "Math", "Date", "crypto", "performance", "console"] as const;

function virtualDate(source: () => DeterminismSource): DateConstructor {
  function VirtualDate(this: unknown, ...args: unknown[]): Date | string {
    if (new.target === undefined) return new RealDate(source().clock.now).toString();
    if (args.length === 0) return new RealDate(source().clock.now);
    return new (RealDate as unknown as new (...a: unknown[]) => Date)(...args);
  }
  VirtualDate.prototype = RealDate.prototype;
  Object.defineProperties(VirtualDate, {
    now: { value: () => source().clock.now, writable: true, configurable: true },
    parse: { value: RealDate.parse, writable: true, configurable: true },
    UTC: { value: RealDate.UTC, writable: true, configurable: true },
  });
  return VirtualDate as unknown as DateConstructor;
}

function virtualCrypto(source: () => DeterminismSource): Record<string, unknown> {
  const getRandomValues = <T extends ArrayBufferView | null>(array: T): T => {
    if (array === null || !ArrayBuffer.isView(array)) {
      throw new TypeError("crypto.getRandomValues expects an integer typed array.");
    }
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    const prng = source().prng;
    for (let i = 0; i < bytes.length; i += 4) {
      let word = prng.nextUint32();
      for (let j = 0; j < 4 && i + j < bytes.length; j++) {
        bytes[i + j] = word & 0xff;
        word >>>= 8;
      }
    }
    return array;
  };
  const randomUUID = (): string => {
    const bytes = getRandomValues(new Uint8Array(16));
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  return {
    getRandomValues,
    randomUUID,
    get subtle(): never {
      throw new SandboxViolationError(
        "crypto.subtle is not available in workflow code: its operations are asynchronous and not replayable. Do cryptography in a step ('use step').",
      );
    },
  };
}

function virtualPerformance(source: () => DeterminismSource): Record<string, unknown> {
  return {
    now: () => source().clock.now - source().clock.origin,
    get timeOrigin() {
      return source().clock.origin;
    },
  };
}

/** The globals one run's bundle sees, in `RUN_GLOBAL_NAMES` order. */
export function runGlobals(
  realm: Global,
  run: DeterminismSource,
  log: (level: ConsoleLevel, args: unknown[]) => void,
): unknown[] {
  const source = () => run;
  const RealMath = realm.Math as Math;
  const math = Object.create(RealMath, {
    random: { value: () => run.prng.next(), writable: true, configurable: true },
  });
  const date = virtualDate(source);
  const crypto = virtualCrypto(source);
  const performance = virtualPerformance(source);
  const console: Record<string, unknown> = {};
  for (const level of ["log", "info", "warn", "error", "debug"] as const)
    console[level] = (...args: unknown[]) => log(level, args);
  // Properties a run sets on its globalThis stay on this object; reads fall through to the realm.
  const global = Object.create(realm, {
    Math: { value: math, writable: true, configurable: true },
    Date: { value: date, writable: true, configurable: true },
    crypto: { value: crypto, writable: true, configurable: true },
    performance: { value: performance, writable: true, configurable: true },
    console: { value: console, writable: true, configurable: true },
  });
  Object.defineProperty(global, "globalThis", { value: global, writable: true, configurable: true });
  return [global, math, date, crypto, performance, console];
}

function forbid(realm: Global, name: string, advice: string): void {
  realm[name] = () => {
    throw new SandboxViolationError(`${name}() is not available in workflow code. ${advice}`);
  };
}

/**
 * Guards the realm's own globals: randomness and the clock answer for the run being evaluated
 * (`current`) and throw otherwise; timers and `fetch` always throw.
 */
export function guardRealm(realm: Global, current: () => DeterminismSource | undefined): void {
  const source = (): DeterminismSource => {
    const run = current();
    if (run === undefined) {
      throw new SandboxViolationError(
        "Workflow code reached the sandbox's shared globals (for example through Object.getPrototypeOf(globalThis)); use Math, Date and crypto directly.",
      );
    }
    return run;
  };
  (realm.Math as { random: () => number }).random = () => source().prng.next();
  realm.Date = virtualDate(source);
  realm.crypto = virtualCrypto(source);
  realm.performance = virtualPerformance(source);
  const timers =
    "Use `await sleep('1s')` from stepwise for a durable delay, or move the code into a step ('use step').";
  for (const name of [
    "setTimeout",
    "setInterval",
    "setImmediate",
    "clearTimeout",
    "clearInterval",
    "clearImmediate",
  ]) {
    forbid(realm, name, timers);
  }
  forbid(
    realm,
    "fetch",
    "Import `fetch` from stepwise (it runs as a durable step with retries), or call fetch inside a step ('use step').",
  );
  realm.queueMicrotask = (callback: () => void) => {
    void Promise.resolve().then(callback);
  };
}
