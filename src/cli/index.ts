#!/usr/bin/env node
/**
 * The `stepwise` command. Each subcommand lives in `commands/` and is a thin shell over the
 * library; this file only dispatches, prints help and turns errors into messages and exit codes.
 */
import { note, print, reportError, UsageError } from "./output.ts";

interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  worker: {
    summary: "run a dedicated worker for your workflow files",
    load: () => import("./commands/worker.ts"),
  },
  start: { summary: "start a run and print its id", load: () => import("./commands/start.ts") },
  inspect: {
    summary: "show runs, steps, events, hooks and sleeps",
    load: () => import("./commands/inspect.ts"),
  },
  cancel: { summary: "cancel a run", load: () => import("./commands/cancel.ts") },
  resume: { summary: "send a payload to a waiting hook", load: () => import("./commands/resume.ts") },
  build: {
    summary: "compile workflows ahead of time for production",
    load: () => import("./commands/build.ts"),
  },
  doctor: {
    summary: "check the World's database for damage, and say what to do",
    load: () => import("./commands/doctor.ts"),
  },
};

const MAIN_HELP = `Usage: npx stepwise <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join("\n")}

Run \`npx stepwise <command> --help\` for a command's options.

The World is chosen by the environment: STEPWISE_WORLD (local, memory, postgres, or a module),
STEPWISE_DATA_DIR (local World; default ./.stepwise), STEPWISE_POSTGRES_URL.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic]) print((await COMMANDS[topic].load()).help);
    else print(MAIN_HELP);
    return 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    note(`error: unknown command "${name}".\n\n${MAIN_HELP}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    print(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      return reportError(new UsageError(error.message), name);
    }
    return reportError(error, name);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportError(error, undefined);
  },
);
