/**
 * `npx stepwise replay --check` in real processes, on a SQLite file: runs started by a worker with
 * version 1 of a workflow sleep; the workflow file then changes the way a deploy would, and the
 * command (its own process, with the new code) says which runs would diverge, where, and what both
 * sides are — exit 1 — and passes (exit 0) when the change leaves the runs' histories alone.
 * (These tests load `dist/`: run `npm run build` first.)
 */
import { readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { makeProject, type NodeResult, type Project, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");

/** The order workflow at version 1, and what each later version changes in it. */
const ORDER = (middle: string, end = "") => `
import { sleep } from "stepwise-workflows";
async function a(id: string) { "use step"; return \`a-\${id}\`; }
async function x(id: string) { "use step"; return \`x-\${id}\`; }
async function b(id: string) { "use step"; return \`b-\${id}\`; }
async function c(id: string) { "use step"; return \`c-\${id}\`; }
export async function order(id: string) {
  "use workflow";
  const first = await a(id);
  ${middle}
  await sleep("1h");
  const last = await b(id);
  ${end}
  return [first, last];
}
`;

const OTHER = `
import { sleep } from "stepwise-workflows";
async function note(id: string) { "use step"; return id; }
export async function other(id: string) {
  "use workflow";
  await note(id);
  await sleep("1h");
  return id;
}
`;

const ok = (result: NodeResult): string => {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
};

describe("replay --check in real processes on the local World", () => {
  let project: Project;
  let world: World;
  const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" };
  const stepwise = (...args: string[]) => runNode([CLI, ...args], project.dir, env);
  const orders: string[] = [];
  let other = "";

  beforeAll(async () => {
    project = makeProject({ "workflows/order.ts": ORDER(""), "workflows/other.ts": OTHER });
    world = createLocalWorld({ dataDir: join(project.dir, ".stepwise") });
    const worker = spawnNode([CLI, "worker"], project.dir, env);
    try {
      for (const id of ["o-1", "o-2", "o-3"]) orders.push(ok(await stepwise("start", "order", `["${id}"]`)));
      other = ok(await stepwise("start", "other", '["t-1"]'));
      // Every run sleeps (its first step done) before the code changes.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const waits = await world.waits.list({ status: "waiting" });
        if (waits.length === 4) break;
        if (Date.now() > deadline) throw new Error("the runs did not reach their sleeps");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  }, 90_000);
  afterAll(async () => {
    await world?.close();
    project?.remove();
  });

  it("passes when the code replays every run in flight", async () => {
    const result = await stepwise("replay", "--check");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("checked 4 runs: 4 replay cleanly.");
  });

  it("names each run a deploy would break, where, and both sides; exit 1", async () => {
    // Version 2 inserts a step before the sleep the runs wait in.
    project.write("workflows/order.ts", ORDER("await x(id);"));
    const result = await stepwise("replay", "--check");
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n").sort();
    expect(lines).toHaveLength(3);
    for (const [i, runId] of [...orders].sort().entries()) {
      expect(lines[i]).toMatch(
        new RegExp(
          `^${runId} order \\(running, \\d+ events\\): diverges at event \\d+: the log has sleep\\(\\), the code makes step "step//workflows/order.ts//x"$`,
        ),
      );
    }
    expect(result.stdout).not.toContain(other);
    expect(result.stderr).toContain("checked 4 runs: 1 replay cleanly, 3 diverge.");
    // The event named is the sleep the log recorded.
    const json = JSON.parse(ok(await stepwise("replay", "--check", "--workflow", "other", "--json")));
    expect(json).toMatchObject({ checked: 1, ok: 1, diverged: 0, problems: [] });
    const full = await stepwise("replay", "--check", "--json");
    expect(full.code).toBe(1);
    const report = JSON.parse(full.stdout) as {
      problems: { runId: string; divergence: { seq: number; logHas: string; codeMakes: string } }[];
    };
    const [first] = report.problems;
    const log = await world.events.list(first?.runId ?? "");
    expect(log.find((event) => event.seq === first?.divergence.seq)?.type).toBe("wait_created");
  });

  it("passes a change after the point the runs have reached", async () => {
    // Version 3: version 1 with a step added after the sleep: the sleeping runs never saw it.
    project.write("workflows/order.ts", ORDER("", "await c(id);"));
    const result = await stepwise("replay", "--check", "--workflow", "order");
    expect(result.code, result.stdout).toBe(0);
    expect(result.stderr).toContain("checked 3 runs: 3 replay cleanly.");
  });

  it("flags runs whose workflow the code no longer has, and narrows by time", async () => {
    renameSync(join(project.dir, "workflows/order.ts"), join(project.dir, "workflows/orders.ts"));
    try {
      const result = await stepwise("replay", "--check");
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        "workflow workflow//workflows/order.ts//order is not in the loaded code",
      );
      expect(result.stderr).toContain("1 replay cleanly, 3 of workflows not in this code");
    } finally {
      renameSync(join(project.dir, "workflows/orders.ts"), join(project.dir, "workflows/order.ts"));
    }
    const future = await stepwise("replay", "--check", "--since", "2999-01-01");
    expect(future.code).toBe(0);
    expect(future.stderr).toContain("checked 0 runs");
    const bad = await stepwise("replay", "--check", "--since", "last tuesday");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Expected a date");
    const missing = await stepwise("replay");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--check");
    expect(readFileSync(join(project.dir, "workflows/order.ts"), "utf8")).toContain("await c(id)");
  });
});
