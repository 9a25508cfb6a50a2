/** How CLI commands print: results to stdout, diagnostics to stderr, errors with their fix. */
import { StepwiseError } from "../errors/base.ts";

/** Prints a result line on stdout (what a script reads). */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Prints a diagnostic line on stderr (progress, notices, errors). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * Thrown for wrong command-line usage that only the command can see (commander checks the rest):
 * printed as one line with the command's help hint, exit code 2.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Prints an error the way a user needs it and returns the exit code (1): Stepwise's own errors and
 * compile errors as their message, which says what to do; anything else with its stack, since it
 * is a bug to report.
 */
export function reportError(error: unknown): number {
  if (
    StepwiseError.is(error) ||
    (error instanceof Error && (error.name === "TransformError" || error.name === "CompileError"))
  ) {
    note(`error: ${error.message}`);
    return 1;
  }
  note(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return 1;
}
