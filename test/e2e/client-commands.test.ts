/**
 * A CLI process that only starts or inspects never drives other runs: with runs waiting for a
 * worker (new ones, a sleeping one, one waiting on its hook), `npx stepwise start`, `inspect`,
 * `cancel` and `resume` execute none of their steps, and `start --wait` executes its own run and
 * nothing else. Steps write to a journal with appendFileSync, so every execution is seen. A
 * dedicated worker then drives every run to its end, which shows they were there to be taken.
 * Real processes, a real SQLite file. (These tests load `dist/`: run `npm run build` first.)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, type NodeResult, type Project, runNode, spawnNode } from "../helpers/project.ts";

const JOURNALED = `
import { appendFileSync } from "node:fs";
export function journal(label: string): void {
  appendFileSync("journal.log", \`\${label} \${process.pid}\\n\`);
}
`;

const FILES: Record<string, string> = {
  "lib/journal.ts": JOURNALED,
  "workflows/jobs.ts": `
import { journal } from "../lib/journal.ts";
async function work(label: string): Promise<string> {
  "use step";
  journal(label);
  return label;
}
export async function job(tag: string) {
  "use workflow";
  return [await work(\`\${tag}-1\`), await work(\`\${tag}-2\`)];
}
`,
  "workflows/waiting.ts": `
import { createHook, sleep } from "stepwise-workflows";
import { journal } from "../lib/journal.ts";
async function after(label: string): Promise<string> {
  "use step";
  journal(label);
  return label;
}
export async function napper() {
  "use workflow";
  await sleep("1 day");
  return await after("napper-woke");
}
export async function waiter(token: string) {
  "use workflow";
  const payload = await createHook<{ ok: boolean }>({ token });
  return [payload, await after("waiter-resumed")];
}
`,
};

const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" };
let project: Project;
let cli: string;
beforeAll(() => {
  project = makeProject(FILES);
  cli = join(project.dir, "node_modules/stepwise-workflows/dist/cli/index.js");
});
afterAll(() => project.remove());

const stepwise = (...args: string[]) => runNode([cli, ...args], project.dir, env);
const ok = (result: NodeResult): string => {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
};
function journal(): string[] {
  const file = join(project.dir, "journal.log");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
}
const json = async (...args: string[]) => JSON.parse(ok(await stepwise(...args, "--json"))).items;

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("CLI commands that start or inspect", () => {
  it("never execute another run's steps; start --wait executes its own run only", async () => {
    // Runs waiting for a worker: two new ones, then a sleeping one and one waiting on its hook
    // (a worker for those two workflows only takes them that far, then stops).
    const first = ok(await stepwise("start", "job", '["first"]'));
    const second = ok(await stepwise("start", "job", '["second"]'));
    const napping = ok(await stepwise("start", "napper"));
    const waiting = ok(await stepwise("start", "waiter", '["the-token"]'));
    const setup = spawnNode([cli, "worker", "workflows/waiting.ts", "--quiet"], project.dir, env);
    await until("the sleep and the hook", async () => {
      const sleeps = await json("inspect", "sleeps", napping);
      const hooks = await json("inspect", "hooks", waiting);
      return sleeps.length > 0 && hooks.length > 0 ? true : undefined;
    });
    setup.child.kill("SIGTERM");
    expect(await setup.exited).toBe(0);
    expect(journal()).toEqual([]);

    // Every command a client runs, each in its own process, with all that work waiting.
    ok(await stepwise("inspect", "runs"));
    ok(await stepwise("inspect", "steps", first));
    ok(await stepwise("inspect", "events", second));
    ok(await stepwise("inspect", "sleeps"));
    ok(await stepwise("inspect", "hooks"));
    expect(ok(await stepwise("hooks", "resume", "the-token", '{"ok":true}'))).toContain(
      "resumed hook the-token",
    );
    expect(ok(await stepwise("cancel", napping))).toBe(`${napping} cancelled`);
    const third = ok(await stepwise("start", "job", '["third"]'));
    expect(journal()).toEqual([]);

    // Cancelling the sleeping run closed its sleep.
    expect((await json("inspect", "sleeps", napping)).map((w: { status: string }) => w.status)).toEqual([
      "cancelled",
    ]);

    // start --wait runs its own run, in its own process, and nothing else.
    const waited = await stepwise("start", "job", '["own"]', "--wait");
    expect(ok(waited)).toMatch(/completed wrun_\w+: \["own-1","own-2"\]/);
    const [own] = journal().map((line) => line.split(" "));
    expect(journal().map((line) => line.split(" ")[0])).toEqual(["own-1", "own-2"]);
    expect(journal().every((line) => line.endsWith(` ${own?.[1]}`))).toBe(true);

    // The work left was there to be taken: a dedicated worker drives it all, each step once.
    const worker = spawnNode([cli, "worker", "--quiet"], project.dir, env);
    try {
      for (const runId of [first, second, third, waiting]) {
        await until(`${runId} to complete`, async () => {
          const [run] = await json("inspect", "runs", runId);
          return run.status === "completed" ? true : undefined;
        });
      }
    } finally {
      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    }
    expect(
      journal()
        .map((line) => line.split(" ")[0])
        .sort(),
    ).toEqual(
      [
        "own-1",
        "own-2",
        "first-1",
        "first-2",
        "second-1",
        "second-2",
        "third-1",
        "third-2",
        "waiter-resumed",
      ].sort(),
    );
    expect((await json("inspect", "runs", napping))[0].status).toBe("cancelled");
  });
});
