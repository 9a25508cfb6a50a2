/**
 * The errors of events (`waitForEvent`, `sendEvent`): a wait that ran out of time, an event type
 * that cannot be used, and a payload that fails its event type's schema. Like every Stepwise error
 * they carry a stable code and are recognised across the sandbox boundary with `static is()`.
 */
import { registerErrorCode, StepwiseError } from "./base.ts";

/**
 * `waitForEvent` reached its timeout without an event of its type. Thrown inside the workflow,
 * which may catch it (`WaitTimeoutError.is(error)`) and go on without the event.
 */
export class WaitTimeoutError extends StepwiseError {
  static override readonly code: string = "WAIT_TIMEOUT";
  /** The event type the workflow waited for. */
  readonly eventType: string;
  /** When the wait gave up (epoch ms, the workflow's clock). */
  readonly timeoutAt: number;
  constructor(eventType: string, timeoutAt: number, timeoutText: string) {
    super(
      `waitForEvent("${eventType}") timed out after ${timeoutText} (at ${new Date(timeoutAt).toISOString()}) without an event of that type. Catch WaitTimeoutError to go on without it, give the wait a longer timeout, or send the event sooner (run.sendEvent("${eventType}", payload)).`,
    );
    this.eventType = eventType;
    this.timeoutAt = timeoutAt;
  }
}
registerErrorCode(WaitTimeoutError.code, StepwiseError.code);

/** An event type that is not 1 to 100 letters, digits and `_ . : -`. */
export class InvalidEventTypeError extends StepwiseError {
  static override readonly code: string = "INVALID_EVENT_TYPE";
  readonly eventType: unknown;
  constructor(eventType: unknown) {
    super(
      `${JSON.stringify(eventType) ?? String(eventType)} is not a valid event type: use 1 to 100 letters, digits and "_", ".", ":", "-" (for example "payment.received"), the same in waitForEvent and sendEvent.`,
    );
    this.eventType = eventType;
  }
}
registerErrorCode(InvalidEventTypeError.code, StepwiseError.code);

/**
 * An event's payload fails the schema of its type (`defineEvent(type, { schema })`, or the
 * `schema` of `waitForEvent`). `sendEvent` refuses it before anything is stored; inside the
 * workflow, the wait that receives it throws it.
 */
export class EventPayloadValidationError extends StepwiseError {
  static override readonly code: string = "EVENT_PAYLOAD_INVALID";
  readonly issues: readonly { message: string; path?: readonly unknown[] }[];
  constructor(message: string, issues: readonly { message: string; path?: readonly unknown[] }[]) {
    super(message);
    this.issues = issues;
  }
}
registerErrorCode(EventPayloadValidationError.code, StepwiseError.code);

/** The rule for event types, shared by both sides (no Node imports). */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Returns `type` when it is a valid event type; throws `InvalidEventTypeError` otherwise. */
export function checkEventType(type: unknown): string {
  if (typeof type !== "string" || !EVENT_TYPE_PATTERN.test(type)) throw new InvalidEventTypeError(type);
  return type;
}
