/**
 * The context of the step attempt currently executing, carried through its async work by
 * AsyncLocalStorage so `getStepMetadata()` and `getWorkflowMetadata()` work anywhere inside a step.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { PayloadCodec, PayloadScope } from "../serde/payload.ts";
import type { World } from "../world/types.ts";
import type { Clock } from "./clock.ts";
import type { Limits } from "./limits.ts";
import type { LogBuffer } from "./log-buffer.ts";

/** The worker's resources a step may use (its streams). */
export interface StepEnvironment {
  world: World;
  payloads: PayloadCodec;
  limits: Limits;
  /** Told of payload bytes a step stored for run `runId` outside the log (stream chunks). */
  stored?(runId: string, bytes: number): void;
  /** The time steps are stamped with and timed out on (default: the wall clock). */
  clock?: Clock;
  /**
   * The body to run for step `stepName` instead of its registered one, if any (a test
   * environment's `mockStep`); the registered step's options (retries, timeout) still apply.
   */
  bodyFor?(stepName: string): ((...args: unknown[]) => unknown) | undefined;
}

export interface StepContext {
  runId: string;
  /** The run as its payloads see it (whether it is encrypted). */
  scope: PayloadScope;
  workflowName: string;
  workflowStartedAt: Date;
  /** The version of the workflow code the run replays with (`RunInfo.version`). */
  workflowVersion: string | undefined;
  stepId: string;
  stepName: string;
  attempt: number;
  stepStartedAt: Date;
  /** Aborts when the attempt should stop; its `reason` is a `StepAbortedError` saying why. */
  signal: AbortSignal;
  env: StepEnvironment;
  /** Where what the attempt prints collects (`console-capture.ts`); absent: nothing is captured. */
  output?: StepOutput;
}

/** One attempt's captured console output: the buffer is made on the first line printed. */
export interface StepOutput {
  buffer?: LogBuffer;
}

export const stepContext = new AsyncLocalStorage<StepContext>();
