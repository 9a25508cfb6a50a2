/**
 * The JSON bodies the run API accepts, each as one schema with its type inferred from it. These
 * are the only shapes that cross the HTTP trust boundary into `stepwise-workflows/api`.
 */
import { array, boolean, type Infer, json, object, optional, string } from "./schema.ts";

/** Longest workflow name or id accepted (ids are `workflow//<file>//<name>`). */
const MAX_WORKFLOW_NAME = 1024;
/** Most arguments a run can be started with. */
const MAX_ARGS = 1000;

/**
 * Longest `id` the body schema lets through to `start()`, which refuses anything over 100
 * characters with the one message about run ids (400 INVALID_RUN_ID); the body limit bounds it anyway.
 */
const MAX_ID_FIELD = 1 << 20;

/**
 * `POST /runs`: which workflow to start (its name or full id), its arguments, and the run's id
 * when the client chooses it (checked by `start()`: 1 to 100 characters of `[A-Za-z0-9_.:-]`).
 */
export const startRunBody = object({
  workflow: string({ min: 1, max: MAX_WORKFLOW_NAME }),
  args: optional(array(json(), { max: MAX_ARGS })),
  id: optional(string({ max: MAX_ID_FIELD })),
});
export type StartRunBody = Infer<typeof startRunBody>;

/** `POST /hooks/:token`: the payload to deliver (any JSON value, `null` included). */
export const resumeHookBody = object({
  payload: json(),
});
export type ResumeHookBody = Infer<typeof resumeHookBody>;

/**
 * `POST /runs/:runId/restart`: where to restart from (`{ step, occurrence? }`, checked by
 * `restart()`: 400 INVALID_RESTART_POINT); from the beginning when absent (or with no body).
 */
export const restartRunBody = object({
  from: optional(json()),
});
export type RestartRunBody = Infer<typeof restartRunBody>;

/** `POST /runs/:runId/events`: the event's type and its payload (any JSON value, `null` included). */
export const sendEventBody = object({
  type: string({ min: 1, max: 100 }),
  payload: json(),
});
export type SendEventBody = Infer<typeof sendEventBody>;

/** `POST /runs/:runId/pause` (the body may be left out): also abort the steps in flight? */
export const pauseRunBody = object({
  abortSteps: optional(boolean()),
});
export type PauseRunBody = Infer<typeof pauseRunBody>;

/**
 * `POST /runs/:runId/decrypt`: why (stored in the audit record; required), and which page of the
 * event log to answer with (as `GET /runs/:runId/events` takes it: `cursor`, `limit`).
 */
export const decryptBody = object({
  reason: string({ min: 1, max: 1000 }),
  cursor: optional(string({ max: 20 })),
  limit: optional(json()),
});
export type DecryptBody = Infer<typeof decryptBody>;
