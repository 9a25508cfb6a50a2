/**
 * Where the local World's data lives without STEPWISE_DATA_DIR: `.stepwise` at the project root
 * (the nearest package.json or pyproject.toml upward), so a command run from a subfolder sees the
 * project's runs instead of silently creating an empty database where it stands; outside any
 * project, `.stepwise` in the current directory, said once when it is created. Real processes in
 * throwaway projects. (These tests load `dist/`: run `npm run build` first.)
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findProjectRootFrom } from "../../src/worlds/local/data-dir.ts";
import { makeProject, type Project, REGISTER, REPO, runNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
/** The environment of a user who set nothing: the local World, no data directory. */
const UNSET = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: "", STEPWISE_ENCRYPTION_KEY: "" };

const FILES: Record<string, string> = {
  "workflows/hello.ts": `
async function greet(name: string): Promise<string> {
  "use step";
  return \`hello \${name}\`;
}
export async function hello(name: string) {
  "use workflow";
  return await greet(name);
}
`,
  "scripts/app.ts": `
import { start } from "stepwise-workflows/api";
import { hello } from "../workflows/hello.ts";
const run = await start(hello, [process.argv[2] ?? "ada"]);
console.log(run.runId, await run.returnValue);
`,
};

let project: Project;
beforeAll(() => {
  project = makeProject(FILES);
  mkdirSync(join(project.dir, "src", "deep"), { recursive: true });
});
afterAll(() => project.remove());

const inspectRuns = async (cwd: string) => {
  const result = await runNode([CLI, "inspect", "runs", "--json"], cwd, UNSET);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { items: { runId: string; status: string }[] }).items;
};

describe("the local World's data directory, by default", () => {
  it("is .stepwise at the project root, whichever folder of the project a process starts in", async () => {
    // A script in scripts/, started from there.
    const started = await runNode(
      ["--import", REGISTER, "app.ts", "ada"],
      join(project.dir, "scripts"),
      UNSET,
    );
    expect(started.code, started.stderr).toBe(0);
    const [runId, ...result] = started.stdout.trim().split(" ");
    expect(result.join(" ")).toBe("hello ada");
    expect(existsSync(join(project.dir, ".stepwise", "stepwise.db"))).toBe(true);
    expect(existsSync(join(project.dir, "scripts", ".stepwise"))).toBe(false);

    // inspect from the root and from a deep subfolder sees the same run.
    for (const cwd of [project.dir, join(project.dir, "src", "deep")]) {
      const runs = await inspectRuns(cwd);
      expect(
        runs.map((run) => [run.runId, run.status]),
        cwd,
      ).toEqual([[runId, "completed"]]);
    }
    expect(existsSync(join(project.dir, "src", "deep", ".stepwise"))).toBe(false);
    expect(existsSync(join(project.dir, "src", ".stepwise"))).toBe(false);

    // doctor checks that same file.
    const doctor = await runNode([CLI, "doctor"], join(project.dir, "src", "deep"), UNSET);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(join(project.dir, ".stepwise", "stepwise.db"));
  });

  it("follows STEPWISE_DATA_DIR when it is set, relative to the current directory", async () => {
    const deep = join(project.dir, "src", "deep");
    const result = await runNode([CLI, "inspect", "runs", "--json"], deep, {
      ...UNSET,
      STEPWISE_DATA_DIR: ".mine",
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).items).toEqual([]);
    expect(existsSync(join(deep, ".mine", "stepwise.db"))).toBe(true);
  });

  it("is .stepwise beside a pyproject.toml for a Python project", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pyproject-"));
    try {
      writeFileSync(join(dir, "pyproject.toml"), '[project]\nname = "app"\n');
      mkdirSync(join(dir, "pkg", "sub"), { recursive: true });
      expect(await inspectRuns(join(dir, "pkg", "sub"))).toEqual([]);
      expect(existsSync(join(dir, ".stepwise", "stepwise.db"))).toBe(true);
      expect(existsSync(join(dir, "pkg", "sub", ".stepwise"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("outside any project is .stepwise in the current directory, and the first process says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-no-project-"));
    try {
      expect(findProjectRootFrom(dir)).toBeUndefined(); // nothing above the temp directory either
      const first = await runNode([CLI, "inspect", "runs"], dir, UNSET);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout.trim()).toBe("No runs.");
      expect(first.stderr).toContain(`No package.json or pyproject.toml in ${dir} or above`);
      expect(first.stderr).toContain(`keeps its data in ${join(dir, ".stepwise")}`);
      expect(first.stderr).toContain("STEPWISE_DATA_DIR");
      expect(existsSync(join(dir, ".stepwise", "stepwise.db"))).toBe(true);
      const second = await runNode([CLI, "inspect", "runs"], dir, UNSET);
      expect(second.code).toBe(0);
      expect(second.stderr).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
