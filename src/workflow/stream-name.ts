/**
 * Stream names (`namespace`), checked the same way in workflow code and in the host: letters,
 * digits and `. _ : @ -`, starting with a letter or digit, at most 128, never `..`. No Node imports.
 */
import { InvalidStreamNameError } from "../errors/runtime.ts";

export const DEFAULT_STREAM = "default";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** The stream name for `namespace` (the default stream when undefined). `InvalidStreamNameError` otherwise. */
export function streamName(namespace: unknown): string {
  if (namespace === undefined) return DEFAULT_STREAM;
  if (typeof namespace !== "string" || !NAME.test(namespace) || namespace.includes("..")) {
    throw new InvalidStreamNameError(
      `${JSON.stringify(namespace)} is not a valid stream name: use 1 to 128 letters, digits and ". _ : @ -", starting with a letter or digit (no slashes, no "..").`,
    );
  }
  return namespace;
}

/** The class id under which stream handles cross from workflow code to steps. */
export const STREAM_CLASS_ID = "stepwise//stream";
