/**
 * The in-process worker never keeps a process alive by itself: a script that starts a run and does
 * not wait for it ends when its own work ends, even though the run sleeps; a later process (here,
 * one that only asks for the result) continues the run.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAINTEXT_NOTICE } from "../../src/serde/keys.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { makeProject, type Project, REGISTER, runNode } from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "workflows/nap.ts": `
import { sleep } from "stepwise-workflows";

async function stamp(label: string): Promise<string> {
  "use step";
  return \`\${label} by \${process.pid}\`;
}

export async function nap(ms: number) {
  "use workflow";
  const before = await stamp("before");
  await sleep(ms);
  const after = await stamp("after");
  return { before, after };
}
`,
  "fire.ts": `
import { start } from "stepwise-workflows/api";
import { nap } from "./workflows/nap.ts";
const run = await start(nap, [2500]);
console.log(run.runId);
`,
  "later.ts": `
import { getRun } from "stepwise-workflows/api";
import "./workflows/nap.ts";
console.log(JSON.stringify(await getRun(process.argv[2]!).returnValue));
`,
};

const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" };
let project: Project;
beforeAll(() => {
  project = makeProject(FILES);
});
afterAll(() => project.remove());

describe("process lifetime", () => {
  it("ends a script whose run sleeps, and a later process continues the run", async () => {
    const started = Date.now();
    const fired = await runNode(["--import", REGISTER, "fire.ts"], project.dir, env);
    const firedMs = Date.now() - started;
    expect(fired.code).toBe(0);
    // The one notice that payloads are stored unencrypted (no STEPWISE_ENCRYPTION_KEY), and nothing else.
    expect(fired.stderr).toBe(`${PLAINTEXT_NOTICE}\n`);
    // It did not wait for the 2.5 s sleep.
    expect(firedMs).toBeLessThan(2500);
    const runId = fired.stdout.trim();

    const world = createLocalWorld({ dataDir: join(project.dir, ".stepwise") });
    try {
      expect((await world.runs.get(runId)).status).toBe("running");
      const waits = await world.waits.list({ runId });
      expect(waits.map((w) => w.status)).toEqual(["waiting"]);
      expect((await world.steps.list(runId)).map((s) => s.status)).toEqual(["completed"]);
    } finally {
      await world.close();
    }

    const later = await runNode(["--import", REGISTER, "later.ts", runId], project.dir, env);
    expect(later.code).toBe(0);
    const result = JSON.parse(later.stdout) as { before: string; after: string };
    expect(result.before).toMatch(/^before by \d+$/);
    expect(result.after).toMatch(/^after by \d+$/);
    expect(result.before).not.toBe(result.after.replace("after", "before"));
  }, 60_000);
});
