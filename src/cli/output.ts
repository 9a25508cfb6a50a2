/** How CLI commands print: results to stdout, diagnostics to stderr, errors with their fix. */
import { StepwiseError } from "../errors/base.ts";

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Thrown for wrong command-line usage; printed with the command's help hint. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Prints an error the way a user needs it and returns the exit code. */
export function reportError(error: unknown, command: string | undefined): number {
  if (error instanceof UsageError) {
    note(
      `error: ${error.message}\nRun \`npx stepwise ${command ?? ""} --help\` for usage.`.replace("  ", " "),
    );
    return 2;
  }
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
