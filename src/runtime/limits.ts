/**
 * Payload size limits: 50 MB per payload (a run's arguments, a step's arguments or result, a hook
 * payload, a stream chunk, a return value) and 2 GB per run (everything in its event log), both
 * configurable with STEPWISE_MAX_PAYLOAD_BYTES and STEPWISE_MAX_RUN_BYTES. Going over either is a
 * `PayloadTooLargeError` naming what was too large and by how much; the payload is not written.
 */
import { ConfigError, PayloadTooLargeError } from "../errors/runtime.ts";
import { formatBytes, runTooLarge } from "../util/bytes.ts";

export { formatBytes };

export interface Limits {
  maxPayloadBytes: number;
  maxRunBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxPayloadBytes: 50 * 1024 * 1024,
  maxRunBytes: 2 * 1024 * 1024 * 1024,
};

function readLimit(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive whole number of bytes (got "${text}").`);
  }
  return value;
}

export function limitsFromEnv(env: Record<string, string | undefined> = process.env): Limits {
  return {
    maxPayloadBytes: readLimit(env, "STEPWISE_MAX_PAYLOAD_BYTES", DEFAULT_LIMITS.maxPayloadBytes),
    maxRunBytes: readLimit(env, "STEPWISE_MAX_RUN_BYTES", DEFAULT_LIMITS.maxRunBytes),
  };
}

/** Throws when one payload is over the per-payload limit. `what` names it ("the result of step X"). */
export function checkPayload(size: number, what: string, limits: Limits): void {
  if (size <= limits.maxPayloadBytes) return;
  throw new PayloadTooLargeError(
    `${what} is ${formatBytes(size)}, over the ${formatBytes(limits.maxPayloadBytes)} limit per payload. Store large data elsewhere and pass a reference (a key or URL), or raise STEPWISE_MAX_PAYLOAD_BYTES.`,
  );
}

/** Throws when adding `size` bytes would take a run over its total limit. */
export function checkRunTotal(
  current: number,
  size: number,
  what: string,
  runId: string,
  limits: Limits,
): void {
  if (current + size > limits.maxRunBytes) throw runTooLarge(what, runId, current, size, limits.maxRunBytes);
}
