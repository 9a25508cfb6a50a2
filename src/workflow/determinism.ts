/**
 * Makes the sandbox deterministic: `Math.random` and `crypto` draw from the current run's seeded
 * generator, `Date` and `performance.now` read the current run's clock (which the host moves to each
 * replayed event's time), and the timer functions and global `fetch` throw an error naming the
 * durable alternative. "Current run" is whichever run the host has entered (see `prelude.ts`).
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

/** What the shims need from the run being executed. */
export interface DeterminismSource {
  clock: Clock;
  prng: Prng;
}

type Global = Record<string, unknown>;

function installDate(global: Global, source: () => DeterminismSource): void {
  const RealDate = global.Date as DateConstructor;
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
  Object.defineProperty(RealDate.prototype, "constructor", {
    value: VirtualDate,
    writable: true,
    configurable: true,
  });
  global.Date = VirtualDate;
}

function installRandom(global: Global, source: () => DeterminismSource): void {
  (global.Math as { random: () => number }).random = () => source().prng.next();
  const getRandomValues = <T extends ArrayBufferView | null>(array: T): T => {
    if (array === null || !ArrayBuffer.isView(array)) {
      throw new TypeError("crypto.getRandomValues expects an integer typed array.");
    }
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    for (let i = 0; i < bytes.length; i += 4) {
      let word = source().prng.nextUint32();
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
  global.crypto = {
    getRandomValues,
    randomUUID,
    get subtle(): never {
      throw new SandboxViolationError(
        "crypto.subtle is not available in workflow code: its operations are asynchronous and not replayable. Do cryptography in a step ('use step').",
      );
    },
  };
}

function forbid(global: Global, name: string, advice: string): void {
  global[name] = () => {
    throw new SandboxViolationError(`${name}() is not available in workflow code. ${advice}`);
  };
}

export function installDeterminism(global: Global, source: () => DeterminismSource): void {
  installDate(global, source);
  installRandom(global, source);
  global.performance = {
    now: () => source().clock.now - source().clock.origin,
    get timeOrigin() {
      return source().clock.origin;
    },
  };
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
    forbid(global, name, timers);
  }
  forbid(
    global,
    "fetch",
    "Import `fetch` from stepwise (it runs as a durable step with retries), or call fetch inside a step ('use step').",
  );
  global.queueMicrotask = (callback: () => void) => {
    void Promise.resolve().then(callback);
  };
}
