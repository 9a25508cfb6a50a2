/**
 * A rolling deploy in real processes, on a SQLite file and on PostgreSQL. Version 1 of a project
 * has three workflows; its worker leaves runs of each asleep. Version 2 is deployed beside it, in
 * another directory, on the same World, while the version-1 worker still runs:
 *
 * - order: a new step inserted before the sleep (the version-1 runs replay with their pinned code;
 *   a new run that the version-1 worker takes waits for a worker that has the new step);
 * - ship: the step after the sleep removed from the code (a version-2 worker that meets a run
 *   calling it records that the run waits for code and hands it back; a version-1 worker runs it);
 * - refund: its file moved to workflows/billing/refund.ts, with the move in package.json (`stepwise.renamed`),
 *   so the runs keep their workflow and step ids.
 *
 * Before the deploy `replay --check` against version 2 flags exactly the order runs. Every run of
 * both versions completes, none fails (no NonDeterminismError), and the journal the steps append to
 * shows each step of each run executed once, in the code of the version that ran it. Then the
 * version-1 worker is gone: a version-1 ship run that wakes now waits (shown by `inspect runs`),
 * and completes once a worker with version 1's code is started again. (Loads `dist/`: run
 * `npm run build` first.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { ok, pollFor } from "../helpers/e2e.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import { makeProject, type Project, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");

/** A step that appends `<name> <id> v<version>` to the journal. */
const step = (name: string, version: number) => `
async function ${name}(id: string) {
  "use step";
  appendFileSync(process.env.JOURNAL as string, \`${name} \${id} v${version}\\n\`);
  return \`${name}-\${id}\`;
}`;

const ORDER = (version: number) => `
import { appendFileSync } from "node:fs";
import { sleep } from "stepwise-workflows";
const NAP = "10s";
${step("a", version)}
${version === 2 ? step("x", version) : ""}
${step("b", version)}
export async function order(id: string) {
  "use workflow";
  const first = await a(id);
  ${version === 2 ? "await x(id);" : ""}
  await sleep(NAP);
  return [first, await b(id)];
}
`;

const SHIP = (version: number) => `
import { appendFileSync } from "node:fs";
import { sleep } from "stepwise-workflows";
const NAP = "10s";
${step("pack", version)}
${version === 1 ? step("label", version) : ""}
export async function ship(id: string, nap = NAP) {
  "use workflow";
  const packed = await pack(id);
  await sleep(nap);
  return ${version === 1 ? "[packed, await label(id)]" : "[packed]"};
}
`;

const REFUND = (version: number) => `
import { appendFileSync } from "node:fs";
import { sleep } from "stepwise-workflows";
const NAP = "10s";
${step("r1", version)}
${step("r2", version)}
export async function refund(id: string) {
  "use workflow";
  const first = await r1(id);
  await sleep(NAP);
  return [first, await r2(id)];
}
`;

const V1 = { "workflows/order.ts": ORDER(1), "workflows/ship.ts": SHIP(1), "workflows/refund.ts": REFUND(1) };
const V2 = {
  "workflows/order.ts": ORDER(2),
  "workflows/ship.ts": SHIP(2),
  "workflows/billing/refund.ts": REFUND(2),
};

for (const kind of ["local", "postgres"] as const) {
  describe(`a rolling deploy, in real processes on the ${kind} World`, () => {
    let v1: Project;
    let v2: Project;
    let shared: string;
    let server: PostgresServer | undefined;
    let world: World;
    let env: Record<string, string>;

    beforeAll(async () => {
      v1 = makeProject(V1);
      v2 = makeProject(V2);
      v2.write(
        "package.json",
        `${JSON.stringify({ name: "app", type: "module", stepwise: { renamed: { "workflows/refund.ts": "workflows/billing/refund.ts" } } })}\n`,
      );
      shared = mkdtempSync(join(tmpdir(), "stepwise-rolling-"));
      env = { JOURNAL: join(shared, "journal.log") };
      if (kind === "postgres") {
        server = await startPostgres();
        const url = await server.createDatabase();
        Object.assign(env, { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url });
        world = await createPostgresWorld({ connectionString: url });
      } else {
        Object.assign(env, { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: join(shared, "data") });
        world = createLocalWorld({ dataDir: join(shared, "data") });
      }
    }, 90_000);
    afterAll(async () => {
      await world?.close();
      await server?.stop();
      v1?.remove();
      v2?.remove();
      rmSync(shared, { recursive: true, force: true });
    });

    const stepwise = (project: Project, ...args: string[]) => runNode([CLI, ...args], project.dir, env);
    const journal = () => {
      const path = join(shared, "journal.log");
      return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n") : [];
    };
    const ended = async (runIds: readonly string[]) => {
      try {
        return await pollFor(
          `${runIds.length} runs to end`,
          async () => {
            const records = await Promise.all(runIds.map((runId) => world.runs.get(runId)));
            return records.every((r) => ["completed", "failed", "cancelled"].includes(r.status))
              ? records
              : undefined;
          },
          60_000,
        );
      } catch (error) {
        // Say where each run that did not end stands: its last events and its queue messages.
        const lines: string[] = [];
        for (const runId of runIds) {
          if ((await world.runs.get(runId)).status !== "running") continue;
          const events = (await world.events.list(runId)).map((event) => event.type);
          const messages = (await world.queue.list(runId)).map(
            (m) => `${m.kind} due ${new Date(m.availableAt).toISOString()} x${m.deliveries}`,
          );
          lines.push(`${runId}: ${events.slice(-3).join(", ")}; ${messages.join(", ") || "no message"}`);
        }
        throw new Error(
          `${(error as Error).message} (now ${new Date().toISOString()}):\n${lines.join("\n")}`,
        );
      }
    };

    it("runs of both versions complete, none fails, each step runs once in the right code", async () => {
      const ids = {
        order: ["o-1", "o-2", "o-3"],
        ship: ["s-1", "s-2", "s-3"],
        refund: ["f-1", "f-2", "f-3"],
      };
      const old: Record<string, string> = {};
      for (const [workflow, list] of Object.entries(ids))
        for (const id of list) old[id] = ok(await stepwise(v1, "start", workflow, `["${id}"]`));
      // One more ship run that sleeps until after version 1 is gone.
      const late = ok(await stepwise(v1, "start", "ship", '["s-late", "40s"]'));
      const worker1 = spawnNode([CLI, "worker"], v1.dir, env);
      let worker2: ReturnType<typeof spawnNode> | undefined;
      try {
        await pollFor("the version-1 runs to sleep", async () =>
          (await world.waits.list({ status: "waiting" })).length === 10 ? true : undefined,
        );

        // Will version 2 break anything? Exactly the order runs: x comes before their sleep.
        const check = await stepwise(v2, "replay", "--check", "--json");
        expect(check.code).toBe(1);
        const report = JSON.parse(check.stdout) as {
          checked: number;
          ok: number;
          problems: { runId: string; verdict: string }[];
        };
        expect(report.checked).toBe(10);
        expect(report.ok).toBe(7);
        expect(report.problems.map((run) => run.verdict)).toEqual(["diverged", "diverged", "diverged"]);
        expect(new Set(report.problems.map((run) => run.runId))).toEqual(
          new Set(ids.order.map((id) => old[id])),
        );

        // The deploy: version 2's worker joins while version 1's still runs; new runs use version 2.
        worker2 = spawnNode([CLI, "worker"], v2.dir, env);
        const fresh: Record<string, string> = {};
        for (const [workflow, id] of [
          ["order", "o-new"],
          ["ship", "s-new"],
          ["refund", "f-new"],
        ] as const)
          fresh[id] = ok(await stepwise(v2, "start", workflow, `["${id}"]`));

        const records = await ended([...Object.values(old), ...Object.values(fresh)]);
        for (const record of records)
          expect(record.status, `${record.runId}\n${worker1.output.stderr}\n${worker2.output.stderr}`).toBe(
            "completed",
          );
        const output = async (runId: string | undefined) =>
          JSON.parse(ok(await stepwise(v2, "inspect", "runs", runId ?? "", "--json"))).items[0].output;
        expect(await output(old["o-1"])).toEqual(["a-o-1", "b-o-1"]);
        expect(await output(old["s-1"])).toEqual(["pack-s-1", "label-s-1"]);
        expect(await output(fresh["s-new"])).toEqual(["pack-s-new"]);
        expect(await output(old["f-1"])).toEqual(["r1-f-1", "r2-f-1"]);
      } finally {
        worker1.child.kill("SIGTERM");
        await worker1.exited;
      }

      // Each step of each run ran exactly once; version-1 order runs never ran x, and the removed
      // label step ran in version 1's worker.
      const lines = journal();
      const byStep = (line: string) => line.split(" ").slice(0, 2).join(" ");
      expect(new Set(lines.map(byStep)).size).toBe(lines.length);
      for (const id of ids.order) expect(lines.some((line) => line.startsWith(`x ${id} `))).toBe(false);
      expect(lines).toContain("x o-new v2");
      for (const id of ids.ship) expect(lines).toContain(`label ${id} v1`);
      expect(lines.some((line) => line.startsWith("label s-new"))).toBe(false);
      for (const id of [...ids.refund, "f-new"]) {
        expect(lines.some((line) => line.startsWith(`r1 ${id} `))).toBe(true);
        expect(lines.some((line) => line.startsWith(`r2 ${id} `))).toBe(true);
      }
      const failed = await world.runs.list({ status: "failed" });
      expect(failed.items).toEqual([]);

      // Version 1's worker is gone. The late ship run wakes in version 2's worker, which has no
      // label step: it waits, and says so, instead of failing.
      try {
        await pollFor(
          "the late run to wait for code",
          async () => {
            const events = await world.events.list(late);
            return events.at(-1)?.type === "step_unavailable" ? true : undefined;
          },
          60_000,
        );
        const [row] = JSON.parse(ok(await stepwise(v2, "inspect", "runs", late, "--json"))).items;
        expect(row.status).toBe("waiting");
        expect(row.waitingForCode.stepName).toBe("step//workflows/ship.ts//label");
        const table = ok(await stepwise(v2, "inspect", "runs", late));
        expect(table).toContain("waiting for a worker that has step label");
        expect(worker2?.output.stderr ?? "").toContain(
          "calls step `step//workflows/ship.ts//label`, which is not in this worker's code",
        );
      } finally {
        worker2?.child.kill("SIGTERM");
        await worker2?.exited;
      }
      // A worker that has the step is started again: the run completes.
      const again = spawnNode([CLI, "worker"], v1.dir, env);
      try {
        const [record] = await ended([late]);
        expect(record?.status, again.output.stderr).toBe("completed");
      } finally {
        again.child.kill("SIGTERM");
        await again.exited;
      }
      expect(journal()).toContain("label s-late v1");
      const types = (await world.events.list(late)).map((event) => event.type);
      expect(types.filter((type) => type === "step_unavailable")).toHaveLength(1);
    }, 180_000);
  });
}
