/**
 * Restarts end to end, in real processes, on the local World (one SQLite file) and on PostgreSQL: a dedicated worker
 * drives the runs, and `npx stepwise start`, `restart` and `inspect` are each their own process.
 * The steps write side-effect lines to a file, which proves what executed again: a restart from a
 * step re-executes that step and the ones after it and not the ones before; a full restart
 * re-executes everything; a run whose step is blocked is stopped (the step's signal aborts) and
 * restarted; a step the run never called is refused with the names it did call, and nothing is
 * written; an unknown run is refused; and a restarted run whose worker is killed with SIGKILL in
 * its new generation is replayed from its log by a fresh worker to the same result. (These tests
 * load `dist/`: run `npm run build` first.)
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshot } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { type E2eWorld, ok, openE2eWorld, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");

const FILES: Record<string, string> = {
  "workflows/order.ts": `
import { appendFileSync, existsSync } from "node:fs";
import { getStepMetadata } from "stepwise-workflows";

function effect(line: string): void {
  appendFileSync("effects.log", line + "\\n");
}

async function prepare(id: string): Promise<string> {
  "use step";
  effect("prepare " + id);
  return "p-" + id;
}

async function charge(what: string): Promise<string> {
  "use step";
  const { signal } = getStepMetadata();
  effect("charge " + what);
  // Blocked (on a promise that settles only when the signal aborts) while the file is there.
  if (existsSync("block-charge")) {
    await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  }
  return "c-" + what;
}

async function ship(what: string): Promise<string> {
  "use step";
  effect("ship " + what);
  return "s-" + what;
}

export async function order(id: string) {
  "use workflow";
  const prepared = await prepare(id);
  const charged = await charge(prepared);
  const shipped = await ship(charged);
  return { prepared, charged, shipped, noise: Math.floor(Math.random() * 1000) };
}
`,
};

for (const kind of ["local", "postgres"] as const)
  describe(`restart in real processes on the ${kind} World`, () => {
    let project: Project;
    let world: World;
    let worker: ReturnType<typeof spawnNode>;
    let opened: E2eWorld | undefined;
    let env: Record<string, string>;

    const stepwise = (...args: string[]) => runNode([CLI, ...args], project.dir, env);
    const startWorker = () => spawnNode([CLI, "worker", "workflows/order.ts"], project.dir, env);
    /** The side effects the steps of run `id` wrote, in order. */
    const effects = (id: string): string[] => {
      const file = join(project.dir, "effects.log");
      if (!existsSync(file)) return [];
      return readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.endsWith(id) || line.includes(`-${id}`));
    };
    const completed = (runId: string) =>
      pollFor(`run ${runId} to complete`, async () => {
        const run = await world.runs.get(runId);
        if (run.status === "failed") throw new Error(`run ${runId} failed`);
        return run.status === "completed" ? run : undefined;
      });
    /** The run's output, as `inspect runs` shows it (decoded by the CLI, its own process). */
    const output = async (runId: string): Promise<unknown> =>
      (
        JSON.parse(ok(await stepwise("inspect", "runs", runId, "--json"))) as {
          items: { output?: unknown }[];
        }
      ).items[0]?.output;

    beforeAll(async () => {
      project = makeProject(FILES);
      opened = await openE2eWorld(kind, project.dir);
      ({ world, env } = opened);
      worker = startWorker();
    }, 60_000);
    afterAll(async () => {
      worker?.child.kill("SIGTERM");
      await worker?.exited;
      await opened?.close();
      project?.remove();
    });

    it("from a step re-executes it and the steps after it, not those before; a full restart re-executes all", async () => {
      const runId = ok(await stepwise("start", "order", '["o1"]'));
      await completed(runId);
      const first = await output(runId);
      expect(effects("o1")).toEqual(["prepare o1", "charge p-o1", "ship c-p-o1"]);

      expect(ok(await stepwise("restart", runId, "--from-step", "charge"))).toMatch(
        new RegExp(
          `^${runId} restarted from call 1 of step charge \\(1 earlier call kept\\): generation 2, `,
        ),
      );
      await completed(runId);
      expect(await output(runId)).toEqual(first);
      expect(effects("o1")).toEqual([
        "prepare o1",
        "charge p-o1",
        "ship c-p-o1",
        "charge p-o1",
        "ship c-p-o1",
      ]);

      const full = JSON.parse(ok(await stepwise("restart", runId, "--json"))) as Record<string, unknown>;
      expect(full).toEqual({ runId, generation: 3, keptCalls: 0 });
      await completed(runId);
      expect(await output(runId)).toEqual(first);
      expect(effects("o1").slice(5)).toEqual(["prepare o1", "charge p-o1", "ship c-p-o1"]);

      // inspect events shows the generations.
      const events = JSON.parse(ok(await stepwise("inspect", "events", runId, "--json"))) as {
        items: { type: string; generation: number }[];
      };
      expect(events.items.filter((e) => e.type === "run_restarted").map((e) => e.generation)).toEqual([2, 3]);
      expect(events.items.at(-1)).toMatchObject({ type: "run_completed", generation: 3 });
      expect(ok(await stepwise("inspect", "events", runId))).toMatch(/^SEQ\s+GEN\s+TYPE/);
    }, 120_000);

    it("refuses a step the run never called (listing those it called) and an unknown run, writing nothing", async () => {
      const runId = ok(await stepwise("start", "order", '["o2"]'));
      await completed(runId);
      const before = await snapshot(world, [runId]);
      const refused = await stepwise("restart", runId, "--from-step", "refund");
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `error: Run ${runId} never called a step named "refund", so it cannot be restarted from it; the steps it called are: prepare, charge, ship. Nothing was done.`,
      );
      const tooFar = await stepwise("restart", runId, "--from-step", "charge", "--occurrence", "2");
      expect(tooFar.code).toBe(1);
      expect(tooFar.stderr).toContain('called step "charge" once');
      const usage = await stepwise("restart", runId, "--occurrence", "2");
      expect(usage.code).toBe(2);
      expect(await snapshot(world, [runId])).toEqual(before);
      const unknown = await stepwise("restart", "wrun_01NOSUCHRUN0000000000000");
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('No run with id "wrun_01NOSUCHRUN0000000000000" exists');
    }, 120_000);

    it("stops a run whose step is blocked (its signal aborts) and restarts it", async () => {
      writeFileSync(join(project.dir, "block-charge"), "");
      const runId = ok(await stepwise("start", "order", '["o3"]'));
      await pollFor("the charge step to block", async () =>
        effects("o3").includes("charge p-o3") ? true : undefined,
      );
      expect((await world.runs.get(runId)).status).toBe("running");
      rmSync(join(project.dir, "block-charge"));
      ok(await stepwise("restart", runId, "--from-step", "charge"));
      await completed(runId);
      expect(effects("o3")).toEqual(["prepare o3", "charge p-o3", "charge p-o3", "ship c-p-o3"]);
      const log = await world.events.list(runId);
      const stop = log.findIndex((event) => event.type === "run_cancelled");
      expect(log[stop]?.data).toEqual({ reason: "restart" });
      expect(log[stop + 1]?.type).toBe("run_restarted");
      // The blocked attempt was aborted, never completed: only the new generation's charge completed.
      expect(log.filter((event) => event.type === "step_completed")).toHaveLength(3);
    }, 120_000);

    it("a restarted run whose worker is killed (SIGKILL) mid-generation is replayed by a fresh worker to the same result", async () => {
      const runId = ok(await stepwise("start", "order", '["o4"]'));
      await completed(runId);
      const first = await output(runId);
      writeFileSync(join(project.dir, "block-charge"), "");
      ok(await stepwise("restart", runId, "--from-step", "charge"));
      await pollFor("the restarted charge to block", async () =>
        effects("o4").filter((line) => line === "charge p-o4").length === 2 ? true : undefined,
      );
      worker.child.kill("SIGKILL");
      const code = await worker.exited;
      expect(worker.child.signalCode).toBe("SIGKILL");
      expect(code).toBeNull();
      rmSync(join(project.dir, "block-charge"));
      worker = startWorker();
      await completed(runId);
      expect(await output(runId)).toEqual(first);
      // prepare kept from generation 1; the killed charge ran again to its end in the fresh worker.
      expect(effects("o4")).toEqual([
        "prepare o4",
        "charge p-o4",
        "ship c-p-o4",
        "charge p-o4",
        "charge p-o4",
        "ship c-p-o4",
      ]);
      const types = (await world.events.list(runId)).map((event) => event.type);
      expect(types.filter((type) => type === "run_restarted")).toHaveLength(1);
      expect(types.at(-1)).toBe("run_completed");
    }, 120_000);
  });
