/**
 * Every `stepwise` command, registered in one place on commander: its arguments, options (parsed
 * and checked here, so a malformed value is a usage error before anything runs), help with
 * examples, and the module that runs it (loaded only when the command is used, so `--help` and
 * `inspect` do not load the worker or the compiler). The commands themselves are thin: they call
 * the library (`ops/`, `api/`).
 */
import { readFileSync } from "node:fs";
import { Argument, Command, Option } from "commander";
import type { ExportCommandOptions } from "./commands/export.ts";
import type { ImportCommandOptions } from "./commands/import.ts";
import type { WorkerCommandOptions } from "./commands/worker.ts";
import { type Act, details } from "./help.ts";
import {
  eventType,
  jsonValue,
  leaseMilliseconds,
  milliseconds,
  pointInTime,
  port,
  positiveInteger,
  runId,
  runStatusList,
} from "./parsers.ts";
import { registerInspect } from "./program-inspect.ts";

/** The installed package's version (from its package.json, beside `src/` and `dist/`). */
export function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

const ENVIRONMENT = `The World is chosen by the environment: STEPWISE_WORLD (local, memory, postgres, or a
module), STEPWISE_DATA_DIR (the local World's directory; default .stepwise at the project root), STEPWISE_POSTGRES_URL.`;

/**
 * Builds the program. `done` receives each action's exit code. Errors (commander's usage errors,
 * and what actions throw) propagate to the caller, which prints them (`index.ts`).
 */
export function buildProgram(done: (code: number) => void): Command {
  const program = new Command("npx stepwise")
    .description("Durable workflows: run workers, start runs, and look inside them.")
    .version(packageVersion(), "-v, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      details(ENVIRONMENT, [
        "npx stepwise worker",
        "npx stepwise start order '[\"order-1\"]' --wait",
        "npx stepwise inspect runs --workflow order",
        "npx stepwise inspect steps wrun_01J…",
        "npx stepwise <command> --help",
      ]),
    );
  const act: Act =
    (handler) =>
    async (...args) => {
      done(await handler(...args));
    };

  program
    .command("worker")
    .summary("run a dedicated worker for your workflow files")
    .description(
      "Runs a dedicated worker for the workflows defined in [files…] against the World chosen by STEPWISE_WORLD. Any number of workers can share one World.",
    )
    .argument("[files...]", "workflow files to load (default: every file under ./workflows)")
    .addOption(
      new Option("--concurrency <n>", "steps executing at once (default 256)").argParser(positiveInteger),
    )
    .addOption(
      new Option(
        "--lease-ms <ms>",
        "how long a run stays with this worker without a heartbeat; a dead worker's runs move to a live one after at most this long (default 5000)",
      ).argParser(leaseMilliseconds),
    )
    .addOption(
      new Option(
        "--stop-grace-ms <ms>",
        "on SIGTERM or SIGINT, how long the steps in flight may run before they are told to stop (their signal aborts) (default 10000)",
      ).argParser(milliseconds),
    )
    .option("--quiet", "do not print a line per run")
    .addHelpText(
      "after",
      details(
        "It prints a line each time it hands a run on: completed, failed (with the error), cancelled,\n" +
          "sleeping until …, waiting for a hook, or retrying a step (attempt, when). On SIGTERM or\n" +
          "SIGINT it stops taking work, lets the steps it is running finish (those still running after\n" +
          "--stop-grace-ms are told to stop: their signal aborts), hands its runs back to the queue\n" +
          "and exits; a second signal exits at once.",
        ["npx stepwise worker", "npx stepwise worker workflows/order.ts --concurrency 32"],
      ),
    )
    .action(
      act(async (files: string[], options: WorkerCommandOptions) =>
        (await import("./commands/worker.ts")).run(files, options),
      ),
    );

  program
    .command("web")
    .summary("open the dashboard: runs, timelines, logs and actions in a browser")
    .description(
      "Serves the dashboard with the run API and the worker protocol (the same server as `stepwise server`) over the World chosen by STEPWISE_WORLD, on 127.0.0.1 and a free port, and prints its URL, until SIGTERM or SIGINT. With STEPWISE_HTTP_SECRET set you sign in with it; without, it serves this machine only, guarded by a one-time secret it prints (the URL carries it).",
    )
    .argument("[files...]", "workflow files to load, so that runs can be started by name")
    .addOption(new Option("--port <n>", "port to listen on (default: a free one)").argParser(port))
    .addOption(
      new Option(
        "--host <address>",
        "interface to listen on (default 127.0.0.1; another needs STEPWISE_HTTP_SECRET)",
      ),
    )
    .option("--open", "open the dashboard in a browser (xdg-open, open or start)")
    .addHelpText(
      "after",
      details("", [
        "npx stepwise web --open",
        "STEPWISE_HTTP_SECRET=$(openssl rand -hex 32) npx stepwise web --host 0.0.0.0 --port 8080",
      ]),
    )
    .action(
      act(async (files: string[], options: { port?: number; host?: string; open?: boolean }) =>
        (await import("./commands/web.ts")).run(files, options),
      ),
    );

  program
    .command("server")
    .summary("serve the run API, the worker protocol and the dashboard over the World")
    .description(
      "Serves the run API (/stepwise), the worker protocol (/stepwise/protocol/v1) and /health over the World chosen by STEPWISE_WORLD, until SIGTERM or SIGINT. Workers and clients anywhere then need only its URL and STEPWISE_HTTP_SECRET: STEPWISE_WORLD=http://host:port.",
    )
    .argument("[files...]", "workflow files to load, so that the run API can start their runs by name")
    .addOption(new Option("--port <n>", "port to listen on (0: any free one)").default(4100).argParser(port))
    .addOption(
      new Option("--host <address>", "interface to listen on (0.0.0.0: every one)").default("127.0.0.1"),
    )
    .addHelpText(
      "after",
      details(
        "Needs STEPWISE_HTTP_SECRET (at least 32 characters): every route but /health requires it.\n" +
          "It executes no workflow code: run workers (npx stepwise worker) with STEPWISE_WORLD set to\n" +
          "its URL. Several servers may share one PostgreSQL World. On SIGTERM it stops taking\n" +
          "connections, ends long polls, lets requests in flight finish and closes the World.",
        [
          "STEPWISE_HTTP_SECRET=$(openssl rand -hex 32) npx stepwise server --port 4100",
          "STEPWISE_WORLD=http://127.0.0.1:4100 npx stepwise worker workflows/order.ts",
        ],
      ),
    )
    .action(
      act(async (files: string[], options: { port?: number; host?: string }) =>
        (await import("./commands/server.ts")).run(files, options),
      ),
    );

  program
    .command("start")
    .summary("start a run and print its id")
    .description(
      'Starts a run of <workflow> and prints its run id. <workflow> is the function name ("order"), <file>//<name>, or the full id (workflow//workflows/order.ts//order). A name is looked up among the workflows loaded here, those live workers registered with the server (STEPWISE_WORLD=http://…), and those with runs, so a workflow this project has no code for (a Python one) starts too; its worker runs it.',
    )
    .argument("<workflow>", "the workflow to start")
    .addArgument(
      new Argument(
        "[json-args]",
        "a JSON array of arguments (a single JSON value is taken as the only argument)",
      ).argParser((text) => jsonValue("[json-args]", text)),
    )
    .option(
      "--load <file>",
      "a workflow file to load (repeatable; default: every file under ./workflows)",
      (file: string, previous: string[] | undefined) => [...(previous ?? []), file],
    )
    .addOption(
      new Option(
        "--id <id>",
        "the run's id instead of a generated one (1 to 100 of A-Z a-z 0-9 _ . : -); starting again with the same id returns that run",
      ).argParser(runId),
    )
    .option(
      "--wait",
      "run the workflow (this run only) in this process, show its progress, and print its result",
    )
    .option("--json", 'print {"runId": …, "created": …} (with --wait: "status", "result" or "error") as JSON')
    .addHelpText(
      "after",
      details(
        "Without --wait the run is only recorded: a worker (npx stepwise worker) or the next process\n" +
          "with an in-process worker executes it. With --wait, progress goes to stderr and the\n" +
          "result to stdout; the exit code is 1 if the run failed or was cancelled. With --id, a\n" +
          "run of the same workflow that already has the id is not started again: its id is\n" +
          "printed (with --wait, its result), and stderr says it existed. For a workflow whose code\n" +
          "is not loaded here (a Python workflow), --wait waits for its worker to run it.\n" +
          "Keyword arguments of a Python workflow are one trailing JSON object.",
        [
          "npx stepwise start order",
          "npx stepwise start order '[\"order-1\", 3]' --wait",
          "npx stepwise start order '[\"order-1\"]' --id order:1",
          "npx stepwise start workflows/order.ts//order --load workflows/order.ts --json",
          'npx stepwise start ai_content_workflow \'[{"topic": "x"}]\' --wait',
        ],
      ),
    )
    .action(
      act(
        async (
          workflow: string,
          args: unknown,
          options: { load?: string[]; id?: string; wait?: boolean; json?: boolean },
        ) => (await import("./commands/start.ts")).run(workflow, args, options),
      ),
    );

  registerInspect(program, act);

  program
    .command("cancel")
    .summary("cancel a run")
    .description(
      'Cancels the run: it ends at once with status "cancelled", and the steps it is running are told to stop (their getStepMetadata().signal aborts; a fetch in flight is aborted). A step that ignores its signal finishes in the background, and its result is discarded. Cancelling a run that has already ended changes nothing.',
    )
    .argument("<runId>", "the run to cancel")
    .addHelpText("after", details("", ["npx stepwise cancel wrun_01J…"]))
    .action(act(async (runId: string) => (await import("./commands/control.ts")).cancel(runId)));

  program
    .command("pause")
    .summary("pause a run")
    .description(
      'Pauses the run: it takes no new step, and sleeps that come due, hook payloads and events that arrive are kept for the resume. The steps it is running finish first and are recorded (status "pausing", then "paused"); with --abort-steps their signals abort too, and a step that stops then runs again after the resume. A paused run stays paused across worker restarts. Pausing a paused run changes nothing; a run that has ended cannot be paused.',
    )
    .argument("<runId>", "the run to pause")
    .option(
      "--abort-steps",
      "also tell the steps it is running to stop (their getStepMetadata().signal aborts)",
    )
    .addHelpText(
      "after",
      details("Then: npx stepwise resume <runId>.", [
        "npx stepwise pause wrun_01J…",
        "npx stepwise pause wrun_01J… --abort-steps",
      ]),
    )
    .action(
      act(async (runId: string, options: { abortSteps?: boolean }) =>
        (await import("./commands/control.ts")).pause(runId, options),
      ),
    );

  program
    .command("resume")
    .summary("resume a paused run")
    .description(
      "Resumes a paused run: what came due or arrived while it was paused is delivered, and its steps run again. A run that is not paused is refused. (Hook payloads are sent with `stepwise hooks resume <token> [json-payload]`.)",
    )
    .argument("<runId>", "the paused run")
    // Only the old spelling of hook resumes had a second argument: the command says where it went.
    .allowExcessArguments(true)
    .addHelpText("after", details("", ["npx stepwise resume wrun_01J…"]))
    .action(
      act(async (runId: string, _options: unknown, command: Command) =>
        (await import("./commands/control.ts")).resume(runId, command.args[1]),
      ),
    );

  program
    .command("restart")
    .summary("restart a run, from the beginning or from a step")
    .description(
      "Starts the run <runId> again under the same id: from the beginning, or with --from-step from the first (or --occurrence n-th) call of that step, keeping what the run did before that call; that step and everything after it execute again. The earlier history stays in the log (inspect events shows each generation). A run that has not ended is stopped first, as cancel stops it.",
    )
    .argument("<runId>", "the run to restart")
    .option("--from-step <name>", "the step to restart from: its name (charge) or full id")
    .option("--occurrence <n>", "which call of --from-step (default 1: its first)", positiveInteger)
    .option("--json", 'print {"runId", "generation", "keptCalls", "step", "occurrence"} as JSON')
    .addHelpText(
      "after",
      details(
        "A step the run never called is refused with the names of the steps it did call, and\n" +
          "nothing is written. The run is executed by the workers, not by this command.",
        [
          "npx stepwise restart wrun_01J…",
          "npx stepwise restart wrun_01J… --from-step charge",
          "npx stepwise restart order:1 --from-step charge --occurrence 2 --json",
        ],
      ),
    )
    .action(
      act(async (runId: string, options: { fromStep?: string; occurrence?: number; json?: boolean }) =>
        (await import("./commands/restart.ts")).run(runId, options),
      ),
    );

  program
    .command("send-event")
    .summary("send an event to a run (waitForEvent)")
    .description(
      "Sends an event of <type> with [json-payload] to the run <runId>. The run's first waitForEvent(<type>) that has not received one takes it, now or when the workflow gets there: events sent before the workflow waits are kept, in order.",
    )
    .argument("<runId>", "the run to send the event to")
    .addArgument(new Argument("<type>", "the event type, as the workflow waits for it").argParser(eventType))
    .addArgument(
      new Argument("[json-payload]", "any JSON value (null when omitted)").argParser((text) =>
        jsonValue("[json-payload]", text),
      ),
    )
    .option(
      "--load <file>",
      "a workflow file to load, for the schemas its defineEvent declares (repeatable; default: every file under ./workflows)",
      (file: string, previous: string[] | undefined) => [...(previous ?? []), file],
    )
    .option("--json", 'print {"runId", "eventId", "type", "sentAt"} as JSON')
    .addHelpText(
      "after",
      details(
        "A payload that fails the schema its type was defined with (defineEvent in the loaded\n" +
          "workflow files) is refused with the schema's message, and nothing is sent.",
        [
          "npx stepwise send-event wrun_01J… payment.received '{\"amount\": 42}'",
          "npx stepwise send-event wrun_01J… approved --json",
        ],
      ),
    )
    .action(
      act(
        async (runId: string, type: string, payload: unknown, options: { load?: string[]; json?: boolean }) =>
          (await import("./commands/send-event.ts")).run(runId, type, payload, options),
      ),
    );

  const resume = (token: string, payload: unknown) =>
    import("./commands/resume.ts").then((command) => command.run(token, payload));
  const payloadArgument = () =>
    new Argument("[json-payload]", "any JSON value (null when omitted)").argParser((text) =>
      jsonValue("[json-payload]", text),
    );
  const resumeHelp = details("The run waiting on it continues in whichever worker drives it.", [
    "npx stepwise hooks resume approve-order-1 '{\"approved\": true}'",
  ]);
  program
    .command("hooks")
    .summary("act on hooks (see inspect hooks to list them)")
    .addHelpText(
      "after",
      details("", [
        "npx stepwise inspect hooks --status active",
        "npx stepwise hooks resume approve-order-1 true",
      ]),
    )
    .command("resume")
    .summary("send a payload to a waiting hook")
    .description("Sends [json-payload] to the hook listening on <token>.")
    .argument("<token>", "the hook's token")
    .addArgument(payloadArgument())
    .addHelpText("after", resumeHelp)
    .action(act(resume));

  program
    .command("replay")
    .summary("check that stored runs replay against this code (a deploy gate)")
    .description(
      "Replays the runs in flight (with --all, the runs that have ended too; --workflow, --since narrow them) against the workflow code here (--load, default every file under ./workflows), or with --from the runs of an export file, without opening a World, and prints each run that would not replay: where its log and the code part (the event, what the log has, what the code makes), a workflow missing from the code, or a payload whose key is not set. Nothing executes and nothing is written. Exit 0 when every run replays cleanly, 1 otherwise.",
    )
    .requiredOption("--check", "replay and report (the only mode)")
    .option(
      "--workflow <name>",
      "only runs of this workflow (a short name finds every workflow of that name; repeatable)",
      (name: string, previous: string[] | undefined) => [...(previous ?? []), name],
    )
    .option(
      "--since <when>",
      'only runs created since then: a date, or a duration ago ("7 days")',
      pointInTime,
    )
    .option(
      "--load <file>",
      "a workflow file to load (repeatable; default: every file under ./workflows)",
      (file: string, previous: string[] | undefined) => [...(previous ?? []), file],
    )
    .option("--all", "also the runs that have ended (their logs are histories worth replaying)")
    .option(
      "--from <file>",
      "the runs of an export file (npx stepwise export) instead of the World's; no World is opened",
    )
    .option("--json", "print the summary and every run that would not replay as JSON")
    .addHelpText(
      "after",
      details("In CI, before a deploy: a non-zero exit means runs in flight would diverge.", [
        "npx stepwise replay --check",
        "npx stepwise replay --check --workflow order --since '7 days'",
        "npx stepwise replay --check --load workflows/order.ts --json",
        "npx stepwise replay --check --all --from runs.ndjson",
      ]),
    )
    .action(
      act(
        async (options: {
          check: boolean;
          workflow?: string[];
          since?: number;
          load?: string[];
          json?: boolean;
          all?: boolean;
          from?: string;
        }) => (await import("./commands/replay.ts")).run(options),
      ),
    );

  program
    .command("upgrade")
    .summary("move runs to this version of their workflow code, where their logs replay")
    .description(
      "Moves the runs [runIds…] (or, with --workflow, every run in flight of that workflow) to the version of their workflow in the code here (--load, default every file under ./workflows): each run's log is replayed against it first, and only a run that replays cleanly is moved; from then on every worker replays it with this code. A run that would diverge is left alone, with where its log and the code part (the event, what the log has, what the code makes). Runs that have ended and runs already at this version are skipped. A run a worker is executing steps of is waited for (10 s), then reported busy. Exit 0 when no run was left alone, 1 otherwise.",
    )
    .argument("[runIds...]", "the runs to move")
    .option(
      "--workflow <name>",
      "every run in flight of this workflow (a short name finds every workflow of that name; repeatable)",
      (name: string, previous: string[] | undefined) => [...(previous ?? []), name],
    )
    .option(
      "--load <file>",
      "a workflow file to load (repeatable; default: every file under ./workflows)",
      (file: string, previous: string[] | undefined) => [...(previous ?? []), file],
    )
    .option("--dry-run", "check and report which runs would move; write nothing")
    .option("--json", "print the counts and every run's result (verdict, versions, divergence) as JSON")
    .addHelpText(
      "after",
      details(
        "After a deploy whose change is safe for the runs in flight (replay --check says which):\n" +
          "the runs moved run the new code's calls from where they are.",
        [
          "npx stepwise upgrade --workflow order --dry-run",
          "npx stepwise upgrade --workflow order",
          "npx stepwise upgrade wrun_01J… order:1 --json",
        ],
      ),
    )
    .action(
      act(
        async (
          runIds: string[],
          options: { workflow?: string[]; load?: string[]; dryRun?: boolean; json?: boolean },
        ) => (await import("./commands/upgrade.ts")).run(runIds, options),
      ),
    );

  program
    .command("build")
    .summary("compile workflows ahead of time for production")
    .description(
      "Compiles [entries…] and everything they import into --out-dir: host modules with their step registrations, and a sandbox bundle beside each workflow file. The result runs with plain node (add --enable-source-maps for mapped stack traces) and needs no loader.",
    )
    .argument("[entries...]", "entry files (default: every file under ./workflows)")
    .option("--out-dir <dir>", "where to write", "dist")
    .option("--root <dir>", "the project root (default: the nearest package.json)")
    .addHelpText(
      "after",
      details("Then: node dist/app.js, or npx stepwise worker dist/workflows/*.js.", [
        "npx stepwise build",
        "npx stepwise build app.ts workflows/order.ts --out-dir build",
      ]),
    )
    .action(
      act(async (entries: string[], options: { outDir: string; root?: string }) =>
        (await import("./commands/build.ts")).run(entries, options),
      ),
    );

  program
    .command("migrate")
    .summary("bring the PostgreSQL World's schema up to date")
    .description(
      "Applies the PostgreSQL World's schema migrations to the database at STEPWISE_POSTGRES_URL (or --url), in one transaction, under an advisory lock (safe while workers start). Workers also migrate at start; this command is for operators who prefer to do it as a deployment step. A database whose schema is newer than this version of Stepwise is refused.",
    )
    .option("--url <url>", "postgres://user:password@host:5432/database (default: STEPWISE_POSTGRES_URL)")
    .option(
      "--schema <name>",
      'the schema holding Stepwise\'s tables (default: STEPWISE_POSTGRES_SCHEMA or "stepwise")',
    )
    .addHelpText(
      "after",
      details("The local World (SQLite) migrates its file when it opens it: it needs no command.", [
        "STEPWISE_POSTGRES_URL=postgres://app@db:5432/app npx stepwise migrate",
        "npx stepwise migrate --url postgres://app@db:5432/app --schema jobs",
      ]),
    )
    .action(
      act(async (options: { url?: string; schema?: string }) =>
        (await import("./commands/migrate.ts")).run(options),
      ),
    );

  program
    .command("rekey")
    .summary("re-encrypt stored payloads under the current key, to retire an old one")
    .description(
      "Re-encrypts every stored payload (run inputs and outputs, step arguments and results, hook and event payloads, stream chunks) that is not under STEPWISE_ENCRYPTION_KEY, reading it with the keys of STEPWISE_ENCRYPTION_OLD_KEYS. Payloads stored in clear are left as they are. It checks every payload first and changes nothing when one is under a key it does not have. Safe beside running workers; a rekey interrupted (even by kill -9) finishes when run again. Progress on stderr, the summary on stdout. Exit code 0 when done (or nothing to do), 1 when refused or failed.",
    )
    .option("--dry-run", "report what would be rewritten, change nothing")
    .option("--json", "machine-readable summary")
    .addHelpText(
      "after",
      details(
        "Retiring a key (docs/security.md, rotating a key): roll out the new key as STEPWISE_ENCRYPTION_KEY with the old one\nin STEPWISE_ENCRYPTION_OLD_KEYS everywhere, run rekey, then remove the old key.",
        [
          "STEPWISE_ENCRYPTION_KEY=$NEW STEPWISE_ENCRYPTION_OLD_KEYS=$OLD npx stepwise rekey --dry-run",
          "STEPWISE_ENCRYPTION_KEY=$NEW STEPWISE_ENCRYPTION_OLD_KEYS=$OLD npx stepwise rekey",
          "STEPWISE_WORLD=postgres npx stepwise rekey --json",
        ],
      ),
    )
    .action(
      act(async (options: { dryRun?: boolean; json?: boolean }) =>
        (await import("./commands/rekey.ts")).run(options),
      ),
    );

  program
    .command("export")
    .summary("write runs (logs, hooks, waits, streams, bundles) to a file, to move them to another World")
    .description(
      "Writes the runs of the World in the environment (all of them, the ones named, or those --workflow, --status, --since select), with their whole logs, the hook payloads and events waiting in their inboxes, their streams, the messages that wake them and the workflow bundles they are pinned to, to an export file (NDJSON with a SHA-256 trailer; docs/architecture.md, Moving runs between Worlds). Payloads are copied as stored: encrypted ones stay encrypted. Stop the workers first: a run a worker is driving is refused (--include-leased exports it as it is, and a step in flight then runs again after the import). The file holds run seeds and hook tokens: keep it as you keep the database.",
    )
    .argument("[runIds...]", "only these runs")
    .requiredOption(
      "-o, --out <file>",
      "the file to write (written as <file>.partial, renamed when complete)",
    )
    .option(
      "--workflow <name>",
      "only runs of this workflow (a short name finds every workflow of that name; repeatable)",
      (name: string, previous: string[] | undefined) => [...(previous ?? []), name],
    )
    .addOption(
      new Option("--status <list>", "only runs with this stored status (comma-separated)").argParser(
        runStatusList,
      ),
    )
    .option(
      "--since <when>",
      'only runs created since then: a date, or a duration ago ("7 days")',
      pointInTime,
    )
    .option("--include-leased", "also runs a worker is driving right now, as they are")
    .option("--json", "machine-readable summary")
    .addHelpText(
      "after",
      details(
        "Moving from the embedded SQLite World to PostgreSQL, runs in flight included: stop the workers, export, import.",
        [
          "npx stepwise export --out runs.ndjson",
          "STEPWISE_WORLD=postgres npx stepwise import runs.ndjson",
          "npx stepwise export --workflow order --status running,paused --out orders.ndjson",
        ],
      ),
    )
    .action(
      act(async (runIds: string[], options: ExportCommandOptions) =>
        (await import("./commands/export.ts")).run(runIds, options),
      ),
    );

  program
    .command("import")
    .summary("load runs from an export file into this World")
    .description(
      "Verifies the export file whole (format version, every record, its SHA-256, each bundle against its hash, the key ids of its encrypted payloads against this process's keys), checks every run against the World in the environment, and only then writes: each run in one transaction, with its ids, sequence numbers, times, hook tokens and payload bytes as they were. Runs in flight continue when a worker runs here: sleeping runs wake at their time, runs waiting on a hook wake when it is resumed with its token. Importing a file again changes nothing (those runs count as present). A run id held here by another run, or a hook token held by another run, refuses the whole file. Exit 0 when imported (or nothing to do), 1 when refused.",
    )
    .argument("<file>", "an export file (npx stepwise export)")
    .option("--dry-run", "verify and check only; write nothing")
    .option(
      "--allow-missing-keys",
      "import payloads under keys this process does not have (the workers here must have them)",
    )
    .option("--json", "machine-readable summary")
    .addHelpText(
      "after",
      details(
        "Set STEPWISE_ENCRYPTION_KEY (and STEPWISE_ENCRYPTION_OLD_KEYS) as the source's workers had them.",
        [
          "STEPWISE_WORLD=postgres npx stepwise import runs.ndjson --dry-run",
          "STEPWISE_WORLD=postgres npx stepwise import runs.ndjson",
        ],
      ),
    )
    .action(
      act(async (file: string, options: ImportCommandOptions) =>
        (await import("./commands/import.ts")).run(file, options),
      ),
    );

  program
    .command("doctor")
    .summary("check the World's database for damage, and say what to do")
    .description(
      "Checks the World that STEPWISE_WORLD names, and changes nothing. It can run while Stepwise processes use the World. Exit code 0 when healthy, 1 when not.",
    )
    .option(
      "--data-dir <dir>",
      "the local World's data directory (default: STEPWISE_DATA_DIR, or .stepwise at the project root)",
    )
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      details(
        "What it checks:\n" +
          "  local     the SQLite file in STEPWISE_DATA_DIR (default .stepwise at the project root): that it is a database and\n" +
          "            Stepwise's, its schema version, SQLite's full integrity_check, the WAL and free space\n" +
          "  postgres  the server at STEPWISE_POSTGRES_URL: that it answers, the schema version and tables\n" +
          "            (PostgreSQL checks its own storage: see pg_amcheck)",
        ["npx stepwise doctor", "STEPWISE_WORLD=postgres npx stepwise doctor --json"],
      ),
    )
    .action(
      act(async (options: { dataDir?: string; json?: boolean }) =>
        (await import("./commands/doctor.ts")).run(options),
      ),
    );

  return program;
}
