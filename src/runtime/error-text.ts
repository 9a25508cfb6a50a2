/**
 * Errors as codec text, for the log and for deliveries: any thrown value encodes (one that cannot
 * be serialized falls back to an Error with its name, message and stack), and errors thrown by
 * workflow code get their stack frames pointed at the user's files.
 */
import { HookTokenConflictError } from "../errors/world.ts";
import { decodeValue, encodeValue } from "../serde/codec.ts";
import { mapSandboxErrorStacks } from "./sandbox-stack.ts";

/** Codec text of anything thrown. */
export function encodeError(error: unknown): string {
  try {
    return encodeValue(error);
  } catch {
    const fallback = new Error(error instanceof Error ? error.message : String(error));
    if (error instanceof Error) {
      fallback.name = error.name;
      if (error.stack !== undefined) fallback.stack = error.stack;
    }
    return encodeValue(fallback);
  }
}

/** The same error text with the stack frames of workflow code pointing at the user's files. */
export function mapErrorText(text: string): string {
  try {
    return encodeValue(mapSandboxErrorStacks(decodeValue(text)));
  } catch {
    return text;
  }
}

/** The error a workflow receives when a hook token is taken. */
export function conflictText(token: string, heldByRunId: string | undefined): string {
  return encodeValue(new HookTokenConflictError(token, heldByRunId));
}
