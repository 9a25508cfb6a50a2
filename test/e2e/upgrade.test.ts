/**
 * `npx stepwise upgrade` in real processes, on a SQLite file and on PostgreSQL. A version-1
 * worker leaves runs of `order` asleep at two points: "early" runs at the first sleep, "late" runs
 * (whose first sleep was short) at the second. Version 2 inserts a step `x` between the two
 * sleeps: safe for the early runs (they have not reached it), a divergence for the late ones
 * (their logs sleep where the code now makes `x`). `upgrade --workflow order` moves exactly the
 * early runs, lists the late ones with their first divergence (both sides) and exits 1; then a
 * version-2 worker completes all of them: the moved runs call `x`, the others finish with version
 * 1's code (loaded from the World). `inspect runs` shows the versions before and after. Bad
 * input: a diverging run named by id (refused, its log unchanged), an unknown id, a finished run,
 * a workflow not in the current code, no runs named. Side effects are lines in a journal file
 * written by the steps. (These tests load `dist/`: run `npm run build` first.)
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { type E2eWorld, ok, openE2eWorld, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");

/** The long sleep: the runs stay asleep at it while the test deploys and upgrades. */
const LONG = 15_000;

const ORDER = (version: number, inserted: string) => `
import { appendFileSync } from "node:fs";
import { sleep } from "stepwise-workflows";
async function a(id: string) { "use step"; appendFileSync("journal.log", \`a \${id}\\n\`); return \`a-\${id}\`; }
async function x(id: string) { "use step"; appendFileSync("journal.log", \`x \${id}\\n\`); return \`x-\${id}\`; }
async function b(id: string) { "use step"; appendFileSync("journal.log", \`b \${id} v${version}\\n\`); return \`b-\${id}-v${version}\`; }
export async function order(id: string, first: number, second: number) {
  "use workflow";
  const done = [await a(id)];
  await sleep(first);
  ${inserted}
  await sleep(second);
  done.push(await b(id));
  return done;
}
`;

const LEGACY = `
import { sleep } from "stepwise-workflows";
export async function legacy() {
  "use workflow";
  await sleep("1h");
  return "legacy";
}
`;

for (const kind of ["local", "postgres"] as const) {
  describe(`npx stepwise upgrade, in real processes on the ${kind} World`, () => {
    let project: Project;
    let opened: E2eWorld | undefined;
    let world: World;
    let env: Record<string, string>;

    beforeAll(async () => {
      project = makeProject({ "workflows/order.ts": ORDER(1, ""), "workflows/legacy.ts": LEGACY });
      opened = await openE2eWorld(kind, project.dir);
      ({ world, env } = opened);
    }, 90_000);
    afterAll(async () => {
      await opened?.close();
      project?.remove();
    });

    const stepwise = (...args: string[]) => runNode([CLI, ...args], project.dir, env);
    const journal = () => {
      const path = join(project.dir, "journal.log");
      return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n") : [];
    };
    /** Each run's version as `inspect runs --json` shows it. */
    const versions = async (): Promise<Map<string, string | null>> => {
      const shown = JSON.parse(ok(await stepwise("inspect", "runs", "--json"))) as {
        items: { runId: string; version: string | null }[];
      };
      return new Map(shown.items.map((row) => [row.runId, row.version]));
    };

    it("moves exactly the runs that replay against the new code; a v2 worker then completes every run", async () => {
      const v1 = spawnNode([CLI, "worker"], project.dir, env);
      const early: string[] = [];
      const late: string[] = [];
      let legacy = "";
      let finished = "";
      try {
        for (const id of ["e-1", "e-2"])
          early.push(ok(await stepwise("start", "order", `["${id}", ${LONG}, 1]`)));
        for (const id of ["l-1", "l-2"])
          late.push(ok(await stepwise("start", "order", `["${id}", 1, ${LONG}]`)));
        legacy = ok(await stepwise("start", "legacy"));
        finished = ok(await stepwise("start", "order", '["f-1", 1, 1]'));
        // Early runs asleep at their first sleep, late ones at their second, the legacy run asleep.
        await pollFor("the runs to sleep where they should", async () => {
          const waiting = await world.waits.list({ status: "waiting" });
          const done = await world.waits.list({ status: "completed" });
          const lateAtSecond = late.every(
            (runId) =>
              done.some((wait) => wait.runId === runId) && waiting.some((wait) => wait.runId === runId),
          );
          const finishedRun = await world.runs.get(finished);
          return waiting.length === 5 && lateAtSecond && finishedRun.status === "completed"
            ? true
            : undefined;
        });
        // Let go of: a sleeping run is held by nobody.
        for (const runId of [...early, ...late, legacy])
          await pollFor(`run ${runId} to be let go of`, async () =>
            (await world.runs.get(runId)).lease === undefined ? true : undefined,
          );
      } finally {
        v1.child.kill("SIGTERM");
        await v1.exited;
      }
      const before = await versions();
      const v1Hash = before.get(early[0] ?? "");
      expect(v1Hash).toMatch(/^[0-9a-f]{64}$/);
      for (const runId of [...early, ...late]) expect(before.get(runId)).toBe(v1Hash);
      const table = ok(await stepwise("inspect", "runs"));
      expect(table.split("\n")[0]).toMatch(/\bversion\b/i);
      expect(table).toContain((v1Hash ?? "").slice(0, 12));
      expect(table).not.toContain((v1Hash ?? "").slice(0, 13));

      // The deploy: x inserted between the sleeps; the legacy workflow removed.
      project.write("workflows/order.ts", ORDER(2, "done.push(await x(id));"));
      rmSync(join(project.dir, "workflows", "legacy.ts"));

      // Bad input first, each changing nothing.
      const lateLog = await world.events.list(late[0] ?? "");
      const named = await stepwise("upgrade", late[0] ?? "");
      expect(named.code, named.stderr).toBe(1);
      expect(named.stdout).toMatch(
        new RegExp(
          `${late[0]} order: left alone, diverges at event \\d+: the log has sleep\\(\\), the code makes step "step//workflows/order.ts//x"`,
        ),
      );
      expect(await world.events.list(late[0] ?? "")).toEqual(lateLog);
      const unknown = await stepwise("upgrade", "wrun_nope");
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toContain("wrun_nope: left alone, no run with id wrun_nope in this World");
      const ended = await stepwise("upgrade", finished);
      expect(ended.code, ended.stderr).toBe(0);
      expect(ended.stdout).toContain(
        `${finished} order: skipped, the run has ended (completed): nothing to move`,
      );
      const legacyLog = await world.events.list(legacy);
      const removed = await stepwise("upgrade", "--workflow", "legacy");
      expect(removed.code).toBe(1);
      expect(removed.stdout).toMatch(/left alone, workflow .*legacy is not in the loaded code/);
      expect(await world.events.list(legacy)).toEqual(legacyLog);
      const none = await stepwise("upgrade");
      expect(none.code).toBe(2);
      expect(none.stderr).toContain("say which runs to upgrade");

      // A dry run says what would move and writes nothing.
      const dry = await stepwise("upgrade", "--workflow", "order", "--dry-run", "--json");
      expect(dry.code, dry.stderr).toBe(1);
      expect(JSON.parse(dry.stdout)).toMatchObject({ checked: 4, safe: 2, diverged: 2 });
      expect((await versions()).get(early[0] ?? "")).toBe(v1Hash);

      const upgraded = await stepwise("upgrade", "--workflow", "order");
      expect(upgraded.code, upgraded.stderr).toBe(1);
      for (const runId of early)
        expect(upgraded.stdout).toMatch(
          new RegExp(`${runId} order: upgraded \\(${(v1Hash ?? "").slice(0, 12)} → `),
        );
      for (const runId of late)
        expect(upgraded.stdout).toMatch(new RegExp(`${runId} order: left alone, diverges at event \\d+`));
      expect(upgraded.stderr).toContain("4 runs: 2 upgraded, 2 would diverge.");

      const after = await versions();
      const v2Hash = after.get(early[0] ?? "");
      expect(v2Hash).toMatch(/^[0-9a-f]{64}$/);
      expect(v2Hash).not.toBe(v1Hash);
      for (const runId of early) expect(after.get(runId)).toBe(v2Hash);
      for (const runId of late) expect(after.get(runId)).toBe(v1Hash);
      for (const runId of early) {
        const log = await world.events.list(runId);
        expect(log.filter((event) => event.type === "run_upgraded")).toEqual([
          expect.objectContaining({ data: { fromHash: v1Hash, toHash: v2Hash } }),
        ]);
        expect((await world.runs.get(runId)).specVersion).toBe(5);
      }

      // A version-2 worker completes every run.
      const v2 = spawnNode([CLI, "worker"], project.dir, env);
      try {
        for (const runId of [...early, ...late]) {
          const run = await pollFor(
            `run ${runId} to end`,
            async () => {
              const record = await world.runs.get(runId);
              return record.status === "completed" || record.status === "failed" ? record : undefined;
            },
            LONG + 30_000,
          );
          expect(run.status, `${runId}: ${v2.output.stderr}`).toBe("completed");
        }
        for (const [runId, id] of [
          [early[0], "e-1"],
          [early[1], "e-2"],
        ]) {
          const [shown] = JSON.parse(ok(await stepwise("inspect", "runs", runId ?? "", "--json"))).items;
          expect(shown.output).toEqual([`a-${id}`, `x-${id}`, `b-${id}-v2`]);
        }
        for (const [runId, id] of [
          [late[0], "l-1"],
          [late[1], "l-2"],
        ]) {
          const [shown] = JSON.parse(ok(await stepwise("inspect", "runs", runId ?? "", "--json"))).items;
          expect(shown.output).toEqual([`a-${id}`, `b-${id}-v2`]);
        }
      } finally {
        v2.child.kill("SIGTERM");
        await v2.exited;
      }
      // Only the moved runs ran the inserted step; nobody failed on a divergence.
      expect(
        journal()
          .filter((line) => line.startsWith("x "))
          .sort(),
      ).toEqual(["x e-1", "x e-2"]);
      for (const runId of [...early, ...late]) {
        const log = await world.events.list(runId);
        expect(log.some((event) => event.type === "run_failed")).toBe(false);
      }
    }, 180_000);
  });
}
