/**
 * What a worker says about a run when it stops driving it (`RunReport.ended` / `.waiting`), read
 * from the driver and its machine at that moment, so nothing is read back from the World: how a
 * finished run ended (from the event that ended it, its error decoded to a name and a message),
 * and what a suspended run waits for (its sleeps, its events, its hooks, its steps waiting to retry).
 */
import { decodeValue } from "../serde/codec.ts";
import { places } from "../serde/places.ts";
import type { RunDriver } from "./driver.ts";

/** How a run ended: its status, and for a failure the error's name and message. */
export type RunEnding =
  | { status: "completed" | "cancelled" }
  | { status: "failed"; error: { name: string; message: string } };

/** What a suspended run waits for. Times are epoch ms. */
export interface RunWaiting {
  /** When each of its sleeps ends. */
  sleeps: number[];
  /** Its `waitForEvent`s: the event type each waits for, and until when (its timeout), earliest first. */
  events: { eventType: string; timeoutAt: number }[];
  /** Its active hooks, by id (tokens are capabilities: a log should not carry them). */
  hooks: string[];
  /** Its steps waiting for their next attempt. */
  retries: { stepId: string; stepName: string; nextAttempt: number; retryAt: number }[];
}

/** The ending of a driver whose run finished; undefined if it has not. */
export function runEnding(driver: RunDriver): RunEnding | undefined {
  const terminal = driver.ended;
  if (terminal === undefined) return undefined;
  if (terminal.type === "run_completed") return { status: "completed" };
  if (terminal.type === "run_cancelled") return { status: "cancelled" };
  let error: { name: string; message: string } = { name: "Error", message: "(no error recorded)" };
  if (terminal.payload !== undefined) {
    try {
      const value = decodeValue(
        driver.machine.payloads.decode(driver.machine.scope, places.runError, terminal.payload),
      ) as { name?: unknown; message?: unknown } | null;
      error =
        value !== null && typeof value === "object"
          ? { name: String(value.name ?? "Error"), message: String(value.message ?? "") }
          : { name: "Error", message: String(value) };
    } catch (cause) {
      error = { name: "Error", message: `(the error could not be read: ${(cause as Error).message})` };
    }
  }
  return { status: "failed", error };
}

/** What the driver's run waits for, as its machine holds it now. */
export function runWaiting(driver: RunDriver): RunWaiting {
  const { machine } = driver;
  const waiting: RunWaiting = {
    sleeps: [...machine.waits.values()].sort((a, b) => a - b),
    events: [...machine.eventWaits.values()]
      .map(({ eventType, timeoutAt }) => ({ eventType, timeoutAt }))
      .sort((a, b) => a.timeoutAt - b.timeoutAt),
    hooks: [],
    retries: [],
  };
  for (const [hookId, hook] of machine.hooks) if (!hook.disposed) waiting.hooks.push(hookId);
  for (const step of machine.steps.values()) {
    if (step.status !== "retrying" || step.retryAt === undefined) continue;
    waiting.retries.push({
      stepId: step.id,
      stepName: step.name,
      nextAttempt: step.attempt + 1,
      retryAt: step.retryAt,
    });
  }
  return waiting;
}
