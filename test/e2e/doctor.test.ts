/**
 * `npx stepwise doctor` end to end, in a fresh project on the local World: a database written by a
 * real app is healthy (exit 0); a copy with a page overwritten on disk is damaged (exit 1, saying
 * what to do), and every other command refuses to open it, saying to restore or run doctor — and
 * neither writes a byte to it. Needs `npm run build` (the commands run from `dist/`).
 */
import { createHash } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  makeProject,
  type NodeResult,
  npxStepwise,
  type Project,
  REGISTER,
  runNode,
} from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "workflows/w.ts": `
async function double(n: number): Promise<number> {
  "use step";
  return n * 2;
}

export async function doubler(n: number) {
  "use workflow";
  let total = n;
  for (let i = 0; i < 5; i++) total = await double(total);
  return total;
}
`,
  "app.ts": `
import { start } from "stepwise-workflows/api";
import { doubler } from "./workflows/w.ts";
for (let i = 0; i < 40; i++) {
  const run = await start(doubler, [i]);
  await run.returnValue;
}
console.log("done");
`,
};

let project: Project;
let stepwise: (dataDir: string, ...args: string[]) => Promise<NodeResult>;
const digest = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

beforeAll(async () => {
  project = makeProject(FILES);
  stepwise = (dataDir, ...args) =>
    runNode([join(project.dir, "node_modules/.bin/stepwise"), ...args], project.dir, {
      STEPWISE_WORLD: "local",
      STEPWISE_DATA_DIR: dataDir,
    });
  const app = await runNode(["--import", REGISTER, "app.ts"], project.dir, {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: ".stepwise",
  });
  expect(app.code, app.stderr).toBe(0);
  // A copy with one page of the event log overwritten, as a failing disk or a torn copy leaves it.
  cpSync(join(project.dir, ".stepwise"), join(project.dir, ".damaged"), { recursive: true });
  const file = join(project.dir, ".damaged", "stepwise.db");
  const db = new Database(file, { readonly: true });
  const leaves = db
    .prepare<[], { pageno: number }>("SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf'")
    .all();
  db.close();
  const page = (leaves[Math.floor(leaves.length / 2)] as { pageno: number }).pageno;
  const bytes = readFileSync(file);
  bytes.fill(0xa5, (page - 1) * 4096, page * 4096);
  writeFileSync(file, bytes);
}, 60_000);
afterAll(() => project.remove());

describe("npx stepwise doctor", () => {
  it("calls the database an app wrote healthy, and exits 0", async () => {
    const result = await npxStepwise(["doctor"], project.dir, {
      STEPWISE_WORLD: "local",
      STEPWISE_DATA_DIR: ".stepwise",
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `Stepwise doctor: the local World, ${join(project.dir, ".stepwise", "stepwise.db")}`,
    );
    expect(result.stdout).toMatch(/ok +integrity +SQLite's integrity_check found no damage/);
    expect(result.stdout).toMatch(/Healthy\.\n$/);
    const json = await stepwise(".stepwise", "doctor", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ world: "local", healthy: true });
  });

  it("calls a damaged copy damaged, says what to do, exits 1, and writes nothing", async () => {
    const file = join(project.dir, ".damaged", "stepwise.db");
    const before = digest(file);
    const result = await stepwise(".damaged", "doctor");
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/PROBLEM +integrity +SQLite's integrity_check stopped at a malformed page/);
    expect(result.stdout).toContain("the damage is in the events table");
    expect(result.stdout).toContain("What to do: Stop every Stepwise process that uses");
    expect(result.stdout).toContain("replace stepwise.db with your latest backup");
    expect(result.stdout).toContain("Not healthy: 1 problem above.");
    const json = await stepwise(".damaged", "doctor", "--json");
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: false });
    expect(digest(file)).toBe(before);
  });

  it("every other command refuses the damaged copy at open, pointing to doctor, and writes nothing", async () => {
    const file = join(project.dir, ".damaged", "stepwise.db");
    const before = digest(file);
    for (const args of [
      ["inspect", "runs"],
      ["start", "doubler", "[1]"],
    ]) {
      const result = await stepwise(".damaged", ...args);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toContain(
        `error: The local World's database ${file} is damaged: SQLite's quick_check at open found`,
      );
      expect(result.stderr).toContain(
        "restore stepwise.db from a backup; `npx stepwise doctor` shows what is damaged.",
      );
    }
    expect(digest(file)).toBe(before);
  });

  it("has --help", async () => {
    const help = await stepwise(".stepwise", "doctor", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npx stepwise doctor/);
    const main = await stepwise(".stepwise", "--help");
    expect(main.stdout).toMatch(/doctor \[options\] +check the World's database for damage/);
  });
});
