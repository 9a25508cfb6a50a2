/**
 * The CLI and the newcomer's path, in real processes on the local World, in a fresh project outside
 * the repository with the package linked the way `npm install <checkout>` links it: a workflow file
 * with directives, an app run with `node --import stepwise-workflows/register`, and `npx stepwise` commands.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAINTEXT_NOTICE } from "../../src/serde/keys.ts";
import {
  makeProject,
  type NodeResult,
  npxStepwise,
  type Project,
  REGISTER,
  runNode,
  spawnNode,
} from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "workflows/x.ts": `
import { FatalError, getStepMetadata, sleep, createHook } from "stepwise-workflows";

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
    for (const command of ["worker", "start", "inspect", "cancel", "resume", "build"]) {
      expect(main.stdout).toContain(command);
      const help = await stepwise(command, "--help");
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toMatch(/^Usage: npx stepwise/);
    }
    const unknown = await stepwise("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
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
      const resumed = await stepwise("resume", "cli-token", '{"ok":true}');
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
      const unknownToken = await stepwise("resume", "no-such-token", "1");
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
