/**
 * Runs pinned to their workflow code, in real processes, on a SQLite file and on PostgreSQL: a
 * version-1 worker leaves runs asleep; version 2 of the workflow (a step inserted before the
 * sleep, another step's body changed) is deployed and a version-2 worker starts. The version-1
 * runs complete with version 1's calls (the inserted step never runs for them, no
 * NonDeterminismError), calling the steps by id in version 2's code; a run started after the
 * deploy runs version 2. Side effects are lines in a journal file written by the steps. (These
 * tests load `dist/`: run `npm run build` first.)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { type E2eWorld, ok, openE2eWorld, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");

const ORDER = (version: number, inserted: string) => `
import { appendFileSync } from "node:fs";
import { sleep } from "stepwise-workflows";
async function a(id: string) { "use step"; appendFileSync("journal.log", \`a \${id}\\n\`); return \`a-\${id}\`; }
async function x(id: string) { "use step"; appendFileSync("journal.log", \`x \${id}\\n\`); return \`x-\${id}\`; }
async function b(id: string) { "use step"; appendFileSync("journal.log", \`b \${id} v${version}\\n\`); return \`b-\${id}-v${version}\`; }
export async function order(id: string) {
  "use workflow";
  const first = await a(id);
  ${inserted}
  await sleep("2s");
  return [first, await b(id)];
}
`;

for (const kind of ["local", "postgres"] as const) {
  describe(`runs pinned to their code across a deploy, in real processes on the ${kind} World`, () => {
    let project: Project;
    let opened: E2eWorld | undefined;
    let world: World;
    let env: Record<string, string>;

    beforeAll(async () => {
      project = makeProject({ "workflows/order.ts": ORDER(1, "") });
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

    it("version-1 runs asleep at a deploy complete with version 1's calls; new runs use version 2", async () => {
      const v1 = spawnNode([CLI, "worker"], project.dir, env);
      const old: string[] = [];
      try {
        for (const id of ["o-1", "o-2"]) old.push(ok(await stepwise("start", "order", `["${id}"]`)));
        await pollFor("both runs to sleep", async () =>
          (await world.waits.list({ status: "waiting" })).length === 2 ? true : undefined,
        );
      } finally {
        v1.child.kill("SIGTERM");
        await v1.exited;
      }
      // The deploy: a step inserted before the sleep, b's body changed.
      project.write("workflows/order.ts", ORDER(2, "await x(id);"));
      // Without pinning these runs would diverge: the new code makes x where their logs sleep.
      const check = await stepwise("replay", "--check");
      expect(check.code).toBe(1);
      expect(check.stderr).toContain("2 diverge");

      const v2 = spawnNode([CLI, "worker"], project.dir, env);
      try {
        const fresh = ok(await stepwise("start", "order", '["n-1"]'));
        for (const runId of [...old, fresh]) {
          const run = await pollFor(`run ${runId} to end`, async () => {
            const record = await world.runs.get(runId);
            return record.status === "completed" || record.status === "failed" ? record : undefined;
          });
          expect(run.status, `${runId}: ${v2.output.stderr}`).toBe("completed");
        }
        const [shown] = JSON.parse(ok(await stepwise("inspect", "runs", old[0] ?? "", "--json"))).items;
        expect(shown.output).toEqual(["a-o-1", "b-o-1-v2"]);
        const [newer] = JSON.parse(ok(await stepwise("inspect", "runs", fresh, "--json"))).items;
        expect(newer.output).toEqual(["a-n-1", "b-n-1-v2"]);
      } finally {
        v2.child.kill("SIGTERM");
        await v2.exited;
      }
      // The old runs never ran the inserted step; they ran b in the new code (steps go by id).
      expect(journal().sort()).toEqual([
        "a n-1",
        "a o-1",
        "a o-2",
        "b n-1 v2",
        "b o-1 v2",
        "b o-2 v2",
        "x n-1",
      ]);
      // Each run names the code it started with; the two versions are stored once each.
      const hashes = new Set<string>();
      for (const runId of [...old]) {
        const [created] = await world.events.list(runId);
        hashes.add((created?.data as { bundleHash?: string } | undefined)?.bundleHash ?? "none");
      }
      expect(hashes.size).toBe(1);
      const [oldHash] = [...hashes];
      expect((await world.bundles.get(oldHash ?? "")).code.length).toBeGreaterThan(0);
    }, 120_000);
  });
}
