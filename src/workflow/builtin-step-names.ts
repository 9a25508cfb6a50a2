/**
 * Ids of the runtime's built-in steps (registered by `runtime/builtin-steps.ts`, called from the
 * sandbox's `stepwise-workflows` module). Shared so both sides agree; no Node imports.
 */
export const BUILTIN_STEPS = {
  /** The durable `fetch`. */
  fetch: "step//stepwise//fetch",
  /** A webhook's manual response. */
  webhookRespond: "step//stepwise//webhook-respond",
  /** A chunk written to a stream from workflow code. */
  streamWrite: "step//stepwise//stream-write",
  /** Closing a stream from workflow code. */
  streamClose: "step//stepwise//stream-close",
} as const;
