/**
 * Standard Schema validation of hook payloads, shared by the sandbox (each payload a workflow
 * receives) and the host (`defineHook(...).resume()` checks before sending). No Node imports.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { HookPayloadValidationError } from "../errors/runtime.ts";

export async function validatePayload<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  describe: (summary: string) => string,
): Promise<T> {
  const outcome = await schema["~standard"].validate(value);
  if (outcome.issues === undefined) return outcome.value;
  const issues = outcome.issues.map((issue) => {
    const entry: { message: string; path?: readonly unknown[] } = { message: issue.message };
    if (issue.path !== undefined) entry.path = issue.path.map((p) => (typeof p === "object" ? p.key : p));
    return entry;
  });
  const summary = issues
    .map((issue) =>
      issue.path && issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
    )
    .join("; ");
  throw new HookPayloadValidationError(describe(summary), issues);
}
