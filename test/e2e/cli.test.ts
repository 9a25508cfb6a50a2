/**
 * The CLI and the newcomer's path, in real processes on the local World, in a fresh project outside
 * the repository with the package linked the way `npm install <checkout>` links it: a workflow file
 * with directives, an app run with `node --import stepwise-workflows/register`, and `npx stepwise` commands.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAINTEXT_NOTICE } from "../../src/serde/keys.ts";
import {
  makeProject,
  type NodeResult,
  npxStepwise,
  type Project,
  REGISTER,
  REPO,
  runNode,
  spawnNode,
} from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "workflows/x.ts": `
import { FatalError, getStepMetadata, getWritable, sleep, createHook } from "stepwise-workflows";

async function flaky(label: string): Promise<string> {
  "use step";
  const { attempt } = getStepMetadata();
  if (attempt < 3) throw new Error(\`\${label} failed on attempt \${attempt}\`);
  return \`\${label} ok on attempt \${attempt}\`;
}
flaky.retries = { delay: "20ms" };

async function refuse(): Promise<void> {
  "use step";
  throw new FatalError("not allowed");
}

async function slow(ms: number): Promise<number> {
  "use step";
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
}

export async function greet(name: string) {
  "use workflow";
  const flakyResult = await flaky(name);
  let caught = "";
  try {
    await refuse();
  } catch (error) {
    caught = \`\${(error as Error).name}: \${(error as Error).message}\`;
  }
  return { hello: name, flakyResult, caught };
}

export async function napper() {
  "use workflow";
  await sleep("1 day");
  return "rested";
}

export async function waiter(token: string) {
  "use workflow";
  const payload = await createHook<{ ok: boolean }>({ token });
  return payload;
}

export async function slowOne(ms: number) {
  "use workflow";
  return await slow(ms);
}

async function emit(chunk: string): Promise<void> {
  "use step";
  const writer = getWritable<string>().getWriter();
  await writer.write(chunk);
  writer.releaseLock();
}

export async function doomed() {
  "use workflow";
  await refuse();
}

export async function streamer(n: number) {
  "use workflow";
  for (let i = 0; i < n; i++) {
    await emit(\`chunk \${i}\`);
    await sleep("300ms");
  }
  return n;
}

export async function streamThenNap() {
  "use workflow";
  await emit("first");
  await sleep("1 day");
}
`,
  "app.ts": `
import { start } from "stepwise-workflows/api";
import { greet } from "./workflows/x.ts";
const run = await start(greet, ["ada"]);
console.log(run.runId);
console.log(JSON.stringify(await run.returnValue));
`,
};

const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" };
let project: Project;
/** `npx stepwise …`, exactly as a user types it (about a second per call, for npm's start-up). */
let npx: (...args: string[]) => Promise<NodeResult>;
/** The same command through node directly, for the many calls of the longer tests. */
let stepwise: (...args: string[]) => Promise<NodeResult>;

beforeAll(() => {
  project = makeProject(FILES);
  npx = (...args) => npxStepwise(args, project.dir, env);
  stepwise = (...args) =>
    runNode([join(project.dir, "node_modules/.bin/stepwise"), ...args], project.dir, env);
});
afterAll(() => project.remove());

describe("a new user's first run", () => {
  let runId = "";

  it("runs app.ts with node --import stepwise-workflows/register and prints the result", async () => {
    const result = await runNode(["--import", REGISTER, "app.ts"], project.dir, env);
    // The one notice that payloads are stored unencrypted (no STEPWISE_ENCRYPTION_KEY), and nothing else.
    expect(result.stderr).toBe(`${PLAINTEXT_NOTICE}\n`);
    expect(result.code).toBe(0);
    const [id, json] = result.stdout.trim().split("\n");
    runId = id ?? "";
    expect(JSON.parse(json ?? "")).toEqual({
      hello: "ada",
      flakyResult: "ada ok on attempt 3",
      caught: "FatalError: not allowed",
    });
  });

  it("lists the run with npx stepwise inspect runs", async () => {
    const result = await npx("inspect", "runs");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(runId);
    expect(result.stdout).toMatch(/greet\s+completed/);
  });

  it("shows three recorded attempts for the step that failed twice, and one for the fatal one", async () => {
    const result = await stepwise("inspect", "steps", runId, "--json");
    const steps = (
      JSON.parse(result.stdout) as { items: { stepName: string; attempt: number; status: string }[] }
    ).items;
    expect(steps.map((s) => [s.stepName.split("//").pop(), s.status, s.attempt])).toEqual([
      ["flaky", "completed", 3],
      ["refuse", "failed", 1],
    ]);
    const events = await stepwise("inspect", "events", runId, "--json");
    const types = (JSON.parse(events.stdout) as { items: { type: string }[] }).items.map((e) => e.type);
    expect(types.filter((t) => t === "step_retrying")).toHaveLength(2);
  });

  it("says that a wrong run id does not exist", async () => {
    const result = await npx("inspect", "runs", "wrun_01JXXXXXXXXXXXXXXXXXXXXXXX");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/No run with id "wrun_01JXXXXXXXXXXXXXXXXXXXXXXX" exists/);
  });
});

describe("npx stepwise", () => {
  it("has --help for every command", async () => {
    const main = await npx("--help");
    expect(main.code).toBe(0);
    for (const command of [
      "worker",
      "start",
      "inspect",
      "cancel",
      "send-event",
      "pause",
      "resume",
      "replay",
      "upgrade",
      "build",
      "migrate",
      "doctor",
      "rekey",
      "export",
      "import",
    ]) {
      expect(main.stdout).toContain(command);
      const help = await stepwise(command, "--help");
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toMatch(new RegExp(`^Usage: npx stepwise ${command}`));
      expect(help.stdout, command).toMatch(/\nExamples:\n {2}\$ .*npx stepwise /);
    }
    for (const sub of ["runs", "steps", "events", "hooks", "sleeps", "audit", "streams"]) {
      const help = await stepwise("inspect", sub, "--help");
      expect(help.code, sub).toBe(0);
      expect(help.stdout, sub).toMatch(new RegExp(`^Usage: npx stepwise inspect ${sub}`));
      expect(help.stdout, sub).toContain("Examples:");
    }
    const hooks = await stepwise("hooks", "resume", "--help");
    expect(hooks.stdout).toMatch(/^Usage: npx stepwise hooks resume \[options\] <token> \[json-payload\]/);
    const unknown = await stepwise("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it("start prints a run id, and an unknown workflow lists the known ones", async () => {
    const started = await stepwise("start", "napper");
    expect(started.code).toBe(0);
    expect(started.stdout.trim()).toMatch(/^wrun_[0-9A-Z]{26}$/);
    const unknown = await stepwise("start", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No workflow named "nope"');
    expect(unknown.stderr).toContain("workflow//workflows/x.ts//greet");
    const badJson = await stepwise("start", "greet", "{not json");
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("not valid JSON");
  });

  it("start --id: the run takes the id; again, the same run (said on stderr); another workflow's id is refused", async () => {
    const first = await stepwise("start", "napper", "--id", "nap:2026-01-01");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe("nap:2026-01-01");
    expect(first.stderr).not.toContain("already exists");
    const again = await stepwise("start", "napper", "--id", "nap:2026-01-01", "--json");
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ runId: "nap:2026-01-01", created: false });
    expect(again.stderr).toContain(
      "Run nap:2026-01-01 of workflow//workflows/x.ts//napper already exists (status: pending): nothing new was started.",
    );
    const shown = JSON.parse((await stepwise("inspect", "runs", "nap:2026-01-01", "--json")).stdout);
    expect(shown.items[0]).toMatchObject({ runId: "nap:2026-01-01", status: "pending" });
    const events = JSON.parse((await stepwise("inspect", "events", "nap:2026-01-01", "--json")).stdout);
    expect(events.items.map((e: { type: string }) => e.type)).toEqual(["run_created"]);

    const conflict = await stepwise("start", "greet", '["ada"]', "--id", "nap:2026-01-01");
    expect(conflict.code).toBe(1);
    expect(conflict.stdout).toBe("");
    expect(conflict.stderr).toContain(
      'The run id "nap:2026-01-01" is already taken by a run of workflow workflow//workflows/x.ts//napper',
    );
    expect(conflict.stderr).not.toMatch(/\n\s+at /);
    const bad = await stepwise("start", "napper", "--id", "nap 2026");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('The run id is not valid: it holds " " at position 4.');
    expect(bad.stderr).toContain('1 to 100 characters of letters, digits, "_", ".", ":" and "-"');
    const runs = JSON.parse((await stepwise("inspect", "runs", "--workflow", "greet", "--json")).stdout);
    expect(runs.items.map((run: { runId: string }) => run.runId)).not.toContain("nap:2026-01-01");
  });

  it("concurrent start --id in separate processes make exactly one run", async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => stepwise("start", "napper", "--id", "race:1", "--json")),
    );
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).runId).toBe("race:1");
    }
    expect(results.filter((result) => JSON.parse(result.stdout).created === true)).toHaveLength(1);
    expect(results.filter((result) => result.stderr.includes("already exists"))).toHaveLength(3);
    const events = JSON.parse((await stepwise("inspect", "events", "race:1", "--json")).stdout);
    expect(events.items.map((e: { type: string }) => e.type)).toEqual(["run_created"]);
  });

  it("a dedicated worker runs started work, cancel stops a sleeping run, resume feeds a hook", async () => {
    const napping = (await stepwise("start", "napper")).stdout.trim();
    const waiting = (await stepwise("start", "waiter", '["cli-token"]')).stdout.trim();
    const worker = spawnNode(
      [join(project.dir, "node_modules/stepwise-workflows/dist/cli/index.js"), "worker", "workflows/x.ts"],
      project.dir,
      env,
    );
    try {
      // The worker picks both up: one sleeps, one waits on its hook.
      for (let i = 0; i < 300; i++) {
        const sleeps = await stepwise("inspect", "sleeps", napping, "--json");
        const hooks = await stepwise("inspect", "hooks", waiting, "--json");
        if (JSON.parse(sleeps.stdout).items.length > 0 && JSON.parse(hooks.stdout).items.length > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const cancelled = await stepwise("cancel", napping);
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toContain("cancelled");
      // The old spelling of hook resumes says where they went, and sends nothing.
      const oldSpelling = await stepwise("resume", "cli-token", '{"ok":true}');
      expect(oldSpelling.code).toBe(2);
      expect(oldSpelling.stderr).toContain(`use: npx stepwise hooks resume cli-token {"ok":true}`);
      const tokenAsRun = await stepwise("resume", "cli-token");
      expect(tokenAsRun.code).toBe(2);
      expect(tokenAsRun.stderr).toContain(`"cli-token" is a hook's token, not a run id`);
      const resumed = await stepwise("hooks", "resume", "cli-token", '{"ok":true}');
      expect(resumed.code).toBe(0);
      for (let i = 0; i < 300; i++) {
        const run = JSON.parse((await stepwise("inspect", "runs", waiting, "--json")).stdout).items[0];
        if (run.status === "completed") {
          expect(run.output).toEqual({ ok: true });
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const status = JSON.parse((await stepwise("inspect", "runs", waiting, "--json")).stdout).items[0]
        .status;
      expect(status).toBe("completed");
      const unknownToken = await stepwise("hooks", "resume", "no-such-token", "1");
      expect(unknownToken.code).toBe(1);
      expect(unknownToken.stderr).toContain("No active hook");
      const filtered = await stepwise("inspect", "runs", "--status", "cancelled", "--json");
      expect(JSON.parse(filtered.stdout).items.map((r: { runId: string }) => r.runId)).toContain(napping);
    } finally {
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    }
    expect(worker.output.stderr).toContain("stopped.");
  });

  it("a worker given SIGTERM finishes its step, hands the run back, and another worker completes it", async () => {
    const runId = (await stepwise("start", "slowOne", "[600]")).stdout.trim();
    const first = spawnNode(
      [join(project.dir, "node_modules/stepwise-workflows/dist/cli/index.js"), "worker", "workflows/x.ts"],
      project.dir,
      env,
    );
    for (let i = 0; i < 200; i++) {
      const steps = JSON.parse((await stepwise("inspect", "steps", runId, "--json")).stdout).items;
      if (steps.length > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.output.stderr).toContain("handing runs back");
    // The step in flight finished and was recorded before the worker left.
    const steps = JSON.parse((await stepwise("inspect", "steps", runId, "--json")).stdout).items;
    expect(steps[0].status).toBe("completed");
    const second = spawnNode(
      [join(project.dir, "node_modules/stepwise-workflows/dist/cli/index.js"), "worker", "workflows/x.ts"],
      project.dir,
      env,
    );
    try {
      let status = "";
      for (let i = 0; i < 200 && status !== "completed"; i++) {
        status = JSON.parse((await stepwise("inspect", "runs", runId, "--json")).stdout).items[0].status;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(status).toBe("completed");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("paginates runs", async () => {
    const page = JSON.parse((await stepwise("inspect", "runs", "--limit", "2", "--json")).stdout);
    expect(page.items).toHaveLength(2);
    expect(typeof page.nextCursor).toBe("string");
    const next = JSON.parse(
      (await stepwise("inspect", "runs", "--limit", "2", "--cursor", page.nextCursor, "--json")).stdout,
    );
    expect(next.items[0].runId).not.toBe(page.items[0].runId);
    const bad = await stepwise("inspect", "runs", "--limit", "zero");
    expect(bad.code).toBe(2);
  });
});

describe("usage errors and the commands a newcomer types first", () => {
  /** A usage error: exit 2, one line on stderr, no stack trace, nothing on stdout. */
  function expectUsageError(result: NodeResult, text: string): void {
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).toContain(text);
  }

  it("npx stepwise --version prints the package's version", async () => {
    const result = await npx("--version");
    expect(result.code).toBe(0);
    const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    expect(result.stdout.trim()).toBe(version);
  });

  it("a typo suggests the command meant", async () => {
    const result = await npx("inspec", "runs");
    expectUsageError(result, "unknown command 'inspec' (Did you mean inspect?)");
    expectUsageError(await stepwise("inspect", "run"), "(Did you mean runs?)");
  });

  it("a missing or malformed argument is a usage error naming it, with the usage", async () => {
    const steps = await npx("inspect", "steps");
    expectUsageError(steps, "error: missing required argument 'runId'");
    expect(steps.stderr).toContain("Usage: npx stepwise inspect steps [options] <runId>");
    expectUsageError(
      await stepwise("inspect", "runs", "--status", "bogus"),
      "Expected one or more of pending, running, pausing, paused, completed, failed, cancelled",
    );
    expectUsageError(
      await stepwise("inspect", "runs", "--status", "sleeping"),
      "A sleeping run is stored as running",
    );
    expectUsageError(await stepwise("inspect", "runs", "--limit", "x"), "Expected a whole number above 0.");
    expectUsageError(
      await stepwise("inspect", "hooks", "--status", "open"),
      "Allowed choices are active, disposed",
    );
    expectUsageError(await stepwise("worker", "--lease-ms", "5"), "at least 200");
    expectUsageError(await stepwise("cancel"), "missing required argument 'runId'");
    expectUsageError(await stepwise("send-event", "wrun_x"), "missing required argument 'type'");
    expectUsageError(
      await stepwise("send-event", "wrun_x", "a/b"),
      "Expected an event type of 1 to 100 letters, digits",
    );
    expectUsageError(await stepwise("send-event", "wrun_x", "paid", "{oops"), "[json-payload]");
    expectUsageError(await stepwise("inspect", "runs", "--reason", "x"), "--reason goes with --decrypt");
    expectUsageError(await stepwise("start", "greet", "[1]", "extra"), "too many arguments");
  });

  it("migrate is a command: its help, and without a database it says what is missing", async () => {
    const help = await npx("migrate", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--url <url>");
    const result = await stepwise("migrate");
    expect(result.stderr).not.toContain("unknown command");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*STEPWISE_POSTGRES_URL/);
  });
});

describe("honest output", () => {
  const cli = join(REPO, "dist/cli/index.js");

  it("start --wait: progress on stderr, the result alone on stdout; a failed run exits 1", async () => {
    const ok = await stepwise("start", "greet", '["bo"]', "--wait", "--json");
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: "completed", result: { hello: "bo" } });
    expect(ok.stderr).toMatch(/wrun_\w+ started/);
    const failed = await stepwise("start", "doomed", "--wait");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toMatch(/error: Workflow run wrun_\w+ failed: FatalError: not allowed/);
    const json = await stepwise("start", "doomed", "--wait", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: "failed",
      error: { name: "FatalError", message: "not allowed" },
    });
  });

  it("the worker logs completed, failed (FatalError: …) and waiting; inspect shows sleeping and waiting", async () => {
    const doomed = (await stepwise("start", "doomed")).stdout.trim();
    const napping = (await stepwise("start", "napper")).stdout.trim();
    const waiting = (await stepwise("start", "waiter", '["log-token"]')).stdout.trim();
    const fine = (await stepwise("start", "greet", '["cy"]')).stdout.trim();
    const worker = spawnNode([cli, "worker", "workflows/x.ts"], project.dir, env);
    try {
      const logged = (text: string) => worker.output.stderr.includes(text);
      for (let i = 0; i < 400; i++) {
        if (
          logged(`${napping} napper: waiting (sleep until`) &&
          logged(`${waiting} waiter: waiting (hook hook_`)
        )
          if (logged(`${doomed} doomed: failed`) && logged(`${fine} greet: completed`)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(worker.output.stderr).toContain(`${doomed} doomed: failed (FatalError: not allowed)`);
      expect(worker.output.stderr).toContain(`${fine} greet: completed`);
      expect(worker.output.stderr).toMatch(
        new RegExp(`${napping} napper: waiting \\(sleep until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)`),
      );
      expect(worker.output.stderr).toContain(`${waiting} waiter: waiting (hook hook_`);
      expect(worker.output.stderr).not.toContain("finished");
      const table = (await stepwise("inspect", "runs")).stdout;
      expect(table).toMatch(new RegExp(`${napping}\\s+napper\\s+sleeping until \\d{4}-`));
      expect(table).toMatch(new RegExp(`${waiting}\\s+waiter\\s+waiting for hook log-token`));
      const json = JSON.parse((await stepwise("inspect", "runs", napping, "--json")).stdout).items[0];
      expect(json).toMatchObject({ status: "sleeping", storedStatus: "running" });
      expect(json.until).toMatch(/^\d{4}-\d\d-\d\dT/);
      const events = (await stepwise("inspect", "events", napping)).stdout;
      expect(events).toMatch(/wait_created .*resumeAt=\d{4}-\d\d-\d\dT/);
      expect(events).not.toMatch(/At=\d{10,}/);
      await stepwise("cancel", napping);
      await stepwise("hooks", "resume", "log-token", '{"ok":true}');
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  });

  it("inspect streams prints a stream's chunks; --follow tails it until the run ends, Ctrl-C stops it", async () => {
    const runId = (await stepwise("start", "streamer", "[3]")).stdout.trim();
    const follow = spawnNode(
      [cli, "inspect", "streams", runId, "default", "--follow", "--json"],
      project.dir,
      env,
    );
    const worker = spawnNode([cli, "worker", "workflows/x.ts"], project.dir, env);
    try {
      expect(await follow.exited).toBe(0);
      const chunks = follow.output.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(chunks.map((c: { index: number; value: string }) => [c.index, c.value])).toEqual([
        [0, "chunk 0"],
        [1, "chunk 1"],
        [2, "chunk 2"],
      ]);
      expect(chunks[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      const list = await stepwise("inspect", "streams", runId);
      expect(list.stdout).toMatch(/default\s+3\s+no/);
      const table = await stepwise("inspect", "streams", runId, "default");
      expect(table.stdout).toMatch(/^ {3}0 {2}\S+Z {2}"chunk 0"$/m);
      const missing = await stepwise("inspect", "streams", runId, "nope");
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('has no stream named "nope". Its streams: default.');

      // A run that wrote one chunk and sleeps for a day: --follow waits until Ctrl-C.
      const napping = (await stepwise("start", "streamThenNap")).stdout.trim();
      const tail = spawnNode([cli, "inspect", "streams", napping, "default", "--follow"], project.dir, env);
      for (let i = 0; i < 400 && !tail.output.stdout.includes('"first"'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(tail.output.stdout).toContain('"first"');
      tail.child.kill("SIGINT");
      expect(await tail.exited).toBe(0);
      expect(tail.output.stderr).not.toMatch(/\n\s+at /);
      await stepwise("cancel", napping);
    } finally {
      follow.child.kill("SIGKILL");
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  });

  it("--workflow pages on the server, and the More: hint keeps every filter", async () => {
    for (let i = 0; i < 3; i++) await stepwise("start", "slowOne", "[1]");
    const first = await stepwise(
      "inspect",
      "runs",
      "--workflow",
      "slowOne",
      "--status",
      "pending",
      "--limit",
      "2",
    );
    expect(first.code, first.stderr).toBe(0);
    const more = first.stdout.match(/More: npx stepwise (inspect runs .*)$/m)?.[1] ?? "";
    expect(more).toMatch(/^inspect runs --status pending --workflow slowOne --limit 2 --cursor wrun_\w+$/);
    const second = await stepwise(...more.split(" "));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/slowOne\s+pending/);
    const ids = (text: string) => [...text.matchAll(/^(wrun_\w+)/gm)].map((m) => m[1]);
    expect(ids(first.stdout)).toHaveLength(2);
    expect(ids(second.stdout).filter((id) => ids(first.stdout).includes(id))).toEqual([]);
  });
});
