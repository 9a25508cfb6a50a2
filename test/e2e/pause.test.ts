/**
 * Pause and resume end to end, in real processes, on the local World (one SQLite file) and on
 * PostgreSQL: a dedicated worker process drives a run that fans out into two steps; `npx
 * stepwise pause` (its own process) pauses it mid-fan-out; the two steps finish and are recorded
 * while the run is `pausing`, then it is `paused` and the step after them does not start; the
 * worker is killed (SIGKILL) and another starts, and the run stays paused; `npx stepwise resume`
 * resumes it, and it completes with the step after the fan-out run once. Side effects are lines
 * in a journal file written by the steps. (These tests load `dist/`: run `npm run build` first.)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunStatus, World } from "../../src/world/types.ts";
import { type E2eWorld, ok, openE2eWorld, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");

const FILES: Record<string, string> = {
  "workflows/fan.ts": `
import { appendFileSync, existsSync } from "node:fs";

/** Writes "begin", waits until the test lets it go (a file appears), writes "end". */
async function slow(label: string): Promise<string> {
  "use step";
  appendFileSync("journal.log", \`begin \${label}\\n\`);
  while (!existsSync(\`release-\${label}\`)) await new Promise((resolve) => setTimeout(resolve, 20));
  appendFileSync("journal.log", \`end \${label}\\n\`);
  return label;
}

async function after(labels: string[]): Promise<string> {
  "use step";
  appendFileSync("journal.log", \`after \${labels.join("+")}\\n\`);
  return labels.join("+");
}

export async function fan() {
  "use workflow";
  const labels = await Promise.all([slow("a"), slow("b")]);
  return await after(labels);
}
`,
};

for (const kind of ["local", "postgres"] as const) {
  describe(`pause and resume in real processes on the ${kind} World`, () => {
    let project: Project;
    let opened: E2eWorld | undefined;
    let world: World;
    let env: Record<string, string>;

    beforeAll(async () => {
      project = makeProject(FILES);
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
    const statusIs = (runId: string, status: RunStatus) =>
      pollFor(`run ${runId} to be ${status}`, async () =>
        (await world.runs.get(runId)).status === status ? true : undefined,
      );

    it("a run paused mid-fan-out finishes its steps in flight, stays paused across a worker restart, and completes after resume", async () => {
      const first = spawnNode([CLI, "worker", "workflows/fan.ts"], project.dir, env);
      let second: ReturnType<typeof spawnNode> | undefined;
      try {
        const runId = ok(await stepwise("start", "fan"));
        await pollFor("both steps to begin", async () =>
          journal().length === 2 ? journal().sort() : undefined,
        );
        expect(ok(await stepwise("pause", runId))).toBe(
          `${runId} pausing (waiting for the steps it is running to end; then paused)`,
        );
        const [shown] = JSON.parse(ok(await stepwise("inspect", "runs", runId, "--json"))).items;
        expect(shown.status).toBe("pausing");

        writeFileSync(join(project.dir, "release-a"), "");
        writeFileSync(join(project.dir, "release-b"), "");
        await statusIs(runId, "paused");
        expect(journal().sort()).toEqual(["begin a", "begin b", "end a", "end b"]);
        const steps = await world.steps.list(runId);
        expect(steps.map((step) => step.status)).toEqual(["completed", "completed"]);

        // The worker dies; another takes over, and the run stays paused.
        first.child.kill("SIGKILL");
        await first.exited;
        second = spawnNode([CLI, "worker", "workflows/fan.ts"], project.dir, env);
        await pollFor("the new worker to start", async () =>
          second?.output.stderr.includes("worker") || second?.output.stdout.includes("worker")
            ? true
            : undefined,
        );
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect((await world.runs.get(runId)).status).toBe("paused");
        expect(journal()).not.toContain("after a+b");

        expect(ok(await stepwise("resume", runId))).toMatch(new RegExp(`^${runId} (running|completed)$`));
        await statusIs(runId, "completed");
        expect(journal().filter((line) => line.startsWith("after"))).toEqual(["after a+b"]);
        const events = (await world.events.list(runId)).map((event) => event.type);
        expect(events.filter((type) => type.startsWith("run_") && type !== "run_started")).toEqual([
          "run_created",
          "run_pausing",
          "run_paused",
          "run_resumed",
          "run_completed",
        ]);
        // A resume of a run that is not paused is refused, exit 1, with what to do.
        const notPaused = await stepwise("resume", runId);
        expect(notPaused.code).toBe(1);
        expect(notPaused.stderr).toMatch(/has already ended \(status: completed\)/);
      } finally {
        first.child.kill("SIGKILL");
        second?.child.kill("SIGTERM");
        await Promise.all([first.exited, second?.exited]);
      }
    }, 120_000);
  });
}
