/**
 * Standard Schema validation of hook and event payloads, shared by the sandbox (each payload a
 * workflow receives) and the host (`defineHook(...).resume()` and `sendEvent` check before
 * sending). No Node imports.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { HookPayloadValidationError } from "../errors/runtime.ts";

type Issues = { message: string; path?: readonly unknown[] }[];

/**
 * Validates `value` against `schema`, returning the schema's output. Refused values throw what
 * `refuse` makes of the message (`describe(summary)`) and the issues: a `HookPayloadValidationError`
 * unless told otherwise.
 */
export async function validatePayload<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  describe: (summary: string) => string,
  refuse: (message: string, issues: Issues) => Error = (message, issues) =>
    new HookPayloadValidationError(message, issues),
): Promise<T> {
  const outcome = await schema["~standard"].validate(value);
  if (outcome.issues === undefined) return outcome.value;
  const issues: Issues = outcome.issues.map((issue) => {
    const entry: Issues[number] = { message: issue.message };
    if (issue.path !== undefined) entry.path = issue.path.map((p) => (typeof p === "object" ? p.key : p));
    return entry;
  });
  const summary = issues
    .map((issue) =>
      issue.path && issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
    )
    .join("; ");
  throw refuse(describe(summary), issues);
}
