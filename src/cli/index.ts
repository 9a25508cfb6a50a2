#!/usr/bin/env node
/**
 * The `stepwise` command. The commands are registered in `program.ts` (commander); this file runs
 * the program and turns what happened into output and an exit code: 0 for success (and for
 * `--help`, `--version`), 1 when a command failed, 2 for a usage error (an unknown command, with
 * the nearest one suggested; a missing or malformed argument or option), which is one line on
 * stderr saying what was wrong and the command's usage, never a stack trace.
 */
import { type Command, CommanderError } from "commander";
import { note, reportError, UsageError } from "./output.ts";
import { buildProgram } from "./program.ts";

/** `npx stepwise inspect steps`, for messages: the command's path from the program down. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

/** Makes commander's error messages one line: the error, then the command's usage. */
function oneLineErrors(command: Command): void {
  command.configureOutput({
    outputError: (text, write) => {
      const message = text.trim().replace(/\s*\n\s*/g, " ");
      const usage = command.createHelp().commandUsage(command);
      const hint = message.startsWith("error: unknown command")
        ? ` Run \`${commandPath(command)} --help\` for the commands.`
        : ` Usage: ${usage} (more: ${commandPath(command)} --help).`;
      write(`${message.replace(/\.$/, "")}.${hint}\n`);
    },
  });
  for (const sub of command.commands) oneLineErrors(sub);
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((exit) => {
    code = exit;
  });
  oneLineErrors(program);
  let running = program;
  program.hook("preAction", (_program, action) => {
    running = action;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    // --help and --version end through here with exit code 0; every other commander error is usage.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      note(`error: ${error.message} Run \`${commandPath(running)} --help\` for usage.`);
      return 2;
    }
    return reportError(error);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportError(error);
  },
);
