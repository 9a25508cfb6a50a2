/**
 * The JSON bodies the run API accepts, each as one schema with its type inferred from it. These
 * are the only shapes that cross the HTTP trust boundary into `stepwise-workflows/api`.
 */
import { array, type Infer, json, object, optional, string } from "./schema.ts";

/** Longest workflow name or id accepted (ids are `workflow//<file>//<name>`). */
const MAX_WORKFLOW_NAME = 1024;
/** Most arguments a run can be started with. */
const MAX_ARGS = 1000;

/** `POST /runs`: which workflow to start (its name or full id) and its arguments. */
export const startRunBody = object({
  workflow: string({ min: 1, max: MAX_WORKFLOW_NAME }),
  args: optional(array(json(), { max: MAX_ARGS })),
});
export type StartRunBody = Infer<typeof startRunBody>;

/** `POST /hooks/:token`: the payload to deliver (any JSON value, `null` included). */
export const resumeHookBody = object({
  payload: json(),
});
export type ResumeHookBody = Infer<typeof resumeHookBody>;

/** `POST /runs/:runId/events`: the event's type and its payload (any JSON value, `null` included). */
export const sendEventBody = object({
  type: string({ min: 1, max: 100 }),
  payload: json(),
});
export type SendEventBody = Infer<typeof sendEventBody>;
