/**
 * Step retry policy. By default a step gets 64 attempts; the first retry waits 5 s and each later
 * one twice as long, capped at one hour (so 64 attempts span about 2.5 days). `FatalError` never
 * retries; `RetryableError({ retryAfter })` sets the next delay itself. Per step:
 * `fn.maxRetries = N` (N retries after the first attempt), or
 * `fn.retries = { limit, delay, backoff: "constant" | "linear" | "exponential" }`.
 */
import { FatalError, RetryableError } from "../errors/user.ts";
import { parseDurationMs, resolveDeadline } from "../util/duration.ts";
import type { StepConfig } from "./registry.ts";

export const DEFAULT_MAX_RETRIES = 63;
export const DEFAULT_RETRY_DELAY_MS = 5_000;
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
/** Interrupted attempts (the worker died mid-step) beyond the maximum before the step fails. */
export const INTERRUPTION_ALLOWANCE = 3;

export function maxAttempts(config: StepConfig | undefined): number {
  const retries = config?.maxRetries ?? config?.retries?.limit ?? DEFAULT_MAX_RETRIES;
  return Math.max(0, Math.floor(retries)) + 1;
}

export function backoffDelay(config: StepConfig | undefined, attempt: number): number {
  const policy = config?.retries;
  const base =
    policy?.delay === undefined ? DEFAULT_RETRY_DELAY_MS : parseDurationMs(policy.delay, "retries.delay");
  const n = Math.max(1, attempt);
  let delay: number;
  switch (policy?.backoff ?? "exponential") {
    case "constant":
      delay = base;
      break;
    case "linear":
      delay = base * n;
      break;
    case "exponential":
      delay = base * 2 ** Math.min(n - 1, 40);
      break;
  }
  return Math.min(delay, MAX_RETRY_DELAY_MS);
}

export type RetryDecision = { retry: false; fatal: boolean } | { retry: true; retryAt: number };

/** What to do after attempt `attempt` of a step threw `error`. */
export function decideRetry(
  config: StepConfig | undefined,
  attempt: number,
  error: unknown,
  now: number,
): RetryDecision {
  if (FatalError.is(error)) return { retry: false, fatal: true };
  if (attempt >= maxAttempts(config)) return { retry: false, fatal: false };
  if (RetryableError.is(error)) {
    const after = (error as RetryableError).retryAfter;
    if (after !== undefined) {
      try {
        return { retry: true, retryAt: Math.max(now, resolveDeadline(after, now)) };
      } catch {
        // An unreadable retryAfter falls back to the policy's delay.
      }
    }
  }
  return { retry: true, retryAt: now + backoffDelay(config, attempt) };
}
