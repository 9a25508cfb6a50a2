/**
 * The errors user code throws from steps to steer retries: `FatalError` stops retrying at once,
 * `RetryableError` asks for another attempt, optionally after a given delay.
 */
import { registerErrorCode, StepwiseError, type StepwiseErrorOptions } from "./base.ts";

/** Thrown from a step to fail it immediately, without further attempts. The workflow can catch it. */
export class FatalError extends StepwiseError {
  static override readonly code: string = "FATAL";
}
registerErrorCode(FatalError.code, StepwiseError.code);

/** When to try again: milliseconds, a duration string such as `'30s'`, or a `Date`. */
export type RetryAfter = number | string | Date;

export interface RetryableErrorOptions extends StepwiseErrorOptions {
  /** Delay before the next attempt: milliseconds, a duration string (`'30s'`, `'5m'`) or a `Date`. */
  retryAfter?: RetryAfter;
}

/** Thrown from a step to ask for another attempt, after `retryAfter` when given. */
export class RetryableError extends StepwiseError {
  static override readonly code: string = "RETRYABLE";
  readonly retryAfter: RetryAfter | undefined;

  constructor(message: string, options?: RetryableErrorOptions) {
    super(message, options);
    this.retryAfter = options?.retryAfter;
  }
}
registerErrorCode(RetryableError.code, StepwiseError.code);
