/** Every error class Stepwise exports, in one place. */
export { ensureError, registerErrorCode, StepwiseError, type StepwiseErrorOptions } from "./base.ts";
export { RunNotPausedError } from "./control.ts";
export * from "./events.ts";
export * from "./restart.ts";
export * from "./runtime.ts";
export { StepAbortedError, type StepAbortReason, type StepAttempt, StepTimeoutError } from "./step.ts";
export { FatalError, type RetryAfter, RetryableError, type RetryableErrorOptions } from "./user.ts";
export * from "./world.ts";
