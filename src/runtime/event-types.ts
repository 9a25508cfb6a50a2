/**
 * The event types whose payload schema this process knows, declared with `defineEvent(type, {
 * schema })` from `stepwise-workflows`. A workflow module's top-level code runs in every process
 * that imports it — the application that starts runs, the HTTP handler, workers, `npx stepwise
 * send-event` (which loads the workflow files) — so `sendEvent` there can refuse a payload that
 * fails its type's schema before anything is stored, whether or not the run waits for it yet. The
 * wait checks it again in the workflow (events from a process that did not load the definition).
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";

const schemas = new Map<string, StandardSchemaV1<unknown, unknown>>();

/**
 * Records the schema of events of `type`. A later definition of the same type replaces it (a
 * module evaluated again, as development servers do): an application gives each type one
 * definition and imports it where it is needed.
 */
export function registerEventSchema(type: string, schema: StandardSchemaV1<unknown, unknown>): void {
  schemas.set(type, schema);
}

/** The schema declared for events of `type` in this process, if any. */
export function eventSchema(type: string): StandardSchemaV1<unknown, unknown> | undefined {
  return schemas.get(type);
}
