/**
 * `stepwise inspect …`, registered on the program: one subcommand per thing to look at (runs,
 * steps, events, logs, hooks, sleeps, audit, streams), each with the options that apply to it, checked
 * before anything runs. Part of the one place where commands are registered (`program.ts`).
 */
import { type Command, Option } from "commander";
import type { InspectCommandOptions } from "./commands/inspect.ts";
import { type Act, details } from "./help.ts";
import { positiveInteger, RUN_STATUSES, runStatusList } from "./parsers.ts";

const DECRYPT = `Encrypted payloads (STEPWISE_ENCRYPTION_KEY) show as <encrypted>. --decrypt shows them: it needs
the key in the environment and first writes an audit record (your OS user, host, pid, the run,
the time and --reason); a second record says whether decrypting succeeded. See docs/security.md.`;

const limit = (what: string) =>
  new Option("--limit <n>", `at most n rows (default ${what})`).argParser(positiveInteger);
const cursor = () => new Option("--cursor <c>", "the next page, as printed after a full page");
const json = () => new Option("--json", "machine-readable output (full ids, ISO times)");
const ids = () => new Option("--ids", "full workflow and step ids instead of short names");
const decrypt = () => new Option("--decrypt", "show encrypted payloads (recorded in the audit trail first)");
const reason = () => new Option("--reason <text>", "why you decrypt, stored in the audit record");

/** Registers `inspect` and its subcommands on `program`. */
export function registerInspect(program: Command, act: Act): void {
  const inspect = program
    .command("inspect")
    .summary("show runs, steps, events, logs, hooks, sleeps, streams and the audit trail")
    .description(
      "Reads runs and their history from the World; it never executes or changes a run. Times are ISO 8601 (UTC). A running run that waits is shown as sleeping (until when), waiting (for which hook token) or retrying (which step, which attempt, when).",
    )
    .addHelpText(
      "after",
      details("", [
        "npx stepwise inspect runs",
        "npx stepwise inspect runs --workflow order --status failed",
        "npx stepwise inspect steps wrun_01J…",
        "npx stepwise inspect logs wrun_01J…",
        "npx stepwise inspect streams wrun_01J… default --follow",
      ]),
    );
  const run =
    (resource: string) =>
    (id: string | undefined, ...rest: unknown[]): Promise<number> =>
      import("./commands/inspect.ts").then((command) =>
        command.run(resource, id, rest[0] as InspectCommandOptions),
      );

  inspect
    .command("runs")
    .summary("the most recent runs, or one run in detail")
    .description(
      "Without <runId>: the runs, newest first, a page at a time. With it: the run in detail, with its input and its result or error.",
    )
    .argument("[runId]", "one run to show in detail")
    .addOption(
      new Option(
        "--status <list>",
        `only runs with this stored status (${RUN_STATUSES.join(", ")}; comma-separated)`,
      ).argParser(runStatusList),
    )
    .option("--workflow <name>", 'runs of one workflow: its name ("order") or full id')
    .addOption(limit("50"))
    .addOption(cursor())
    .addOption(ids())
    .addOption(decrypt())
    .addOption(reason())
    .addOption(json())
    .addHelpText(
      "after",
      details(DECRYPT, [
        "npx stepwise inspect runs --status running,pending",
        "npx stepwise inspect runs --workflow order --limit 20",
        "npx stepwise inspect runs wrun_01J… --decrypt --reason 'ticket 42'",
      ]),
    )
    .action(act(run("runs")));

  inspect
    .command("steps")
    .summary("a run's steps, with attempts, durations and results")
    .argument("<runId>", "the run")
    .addOption(ids())
    .addOption(decrypt())
    .addOption(reason())
    .addOption(json())
    .addHelpText("after", details(DECRYPT, ["npx stepwise inspect steps wrun_01J…"]))
    .action(act(run("steps")));

  inspect
    .command("events")
    .summary("a run's event log")
    .argument("<runId>", "the run")
    .addOption(limit("100"))
    .addOption(cursor())
    .addOption(ids())
    .addOption(decrypt())
    .addOption(reason())
    .addOption(json())
    .addHelpText(
      "after",
      details(DECRYPT, [
        "npx stepwise inspect events wrun_01J…",
        "npx stepwise inspect events wrun_01J… --json",
      ]),
    )
    .action(act(run("events")));

  inspect
    .command("logs")
    .summary("a run's console output: what its steps and its workflow printed")
    .description(
      "Each line with its time, step, attempt and stream (the console method, or stdout/stderr for a direct write), in the order it was stored: a step attempt's output with its outcome, the workflow's (printed outside replay) with the events that followed it. An attempt keeps 1,000 lines and 64 KB; a note says when output was left out.",
    )
    .argument("<runId>", "the run")
    .option("--step <name>", "only this step's output: its name, full id or step id")
    .addOption(limit("1000"))
    .addOption(cursor())
    .addOption(ids())
    .addOption(decrypt())
    .addOption(reason())
    .addOption(json())
    .addHelpText(
      "after",
      details(DECRYPT, [
        "npx stepwise inspect logs wrun_01J…",
        "npx stepwise inspect logs wrun_01J… --step charge --json",
      ]),
    )
    .action(act(run("logs")));

  inspect
    .command("hooks")
    .summary("hooks: all, or one run's")
    .argument("[runId]", "only this run's hooks")
    .addOption(
      new Option("--status <status>", "only active or disposed hooks").choices(["active", "disposed"]),
    )
    .addOption(limit("50"))
    .addOption(json())
    .addHelpText("after", details("", ["npx stepwise inspect hooks --status active"]))
    .action(act(run("hooks")));

  inspect
    .command("sleeps")
    .summary("durable sleeps and event waits (waitForEvent): all, or one run's")
    .argument("[runId]", "only this run's sleeps and event waits")
    .addOption(
      new Option(
        "--status <status>",
        "only waiting, completed, timed_out (event waits) or cancelled ones",
      ).choices(["waiting", "completed", "timed_out", "cancelled"]),
    )
    .addOption(limit("50"))
    .addOption(json())
    .addHelpText(
      "after",
      details("An event wait's until is its timeout.", [
        "npx stepwise inspect sleeps --status waiting",
        "npx stepwise inspect sleeps --status timed_out",
      ]),
    )
    .action(act(run("sleeps")));

  inspect
    .command("audit")
    .summary("who decrypted payloads, newest first: all, or one run's")
    .argument("[runId]", "only records naming this run")
    .addOption(limit("50"))
    .addOption(cursor())
    .addOption(json())
    .addHelpText("after", details("", ["npx stepwise inspect audit", "npx stepwise inspect audit wrun_01J…"]))
    .action(act(run("audit")));

  inspect
    .command("streams")
    .summary("a run's streams, or the chunks of one (--follow to tail it)")
    .description(
      "Without [name]: the run's streams, with their chunk counts. With it: the stream's chunks, decoded like other payloads. --follow keeps printing new chunks until the stream is closed or the run ends; Ctrl-C stops it.",
    )
    .argument("<runId>", "the run")
    .argument("[name]", 'the stream ("default" is the one getWritable() writes without a namespace)')
    .option("--follow", "keep printing new chunks until the stream closes or the run ends")
    .addOption(decrypt())
    .addOption(reason())
    .addOption(new Option("--json", "one JSON object per line: {index, createdAt, value}"))
    .addHelpText(
      "after",
      details(DECRYPT, [
        "npx stepwise inspect streams wrun_01J…",
        "npx stepwise inspect streams wrun_01J… default --follow",
      ]),
    )
    .action(
      act((runId: string, name: string | undefined, options: InspectCommandOptions) =>
        import("./commands/inspect-streams.ts").then((command) => command.run(runId, name, options)),
      ),
    );
}
