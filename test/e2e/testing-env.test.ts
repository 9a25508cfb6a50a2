/**
 * The README's "Testing workflows" example, as a user runs it: its files (the code blocks marked
 * `<!-- test-file: … -->`, read from the README itself) in a throwaway project that imports
 * `stepwise-workflows/testing` from the built package, run with `node --import
 * stepwise-workflows/register --test`. Needs `npm run build` (it loads `dist/`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeProject, type Project, REPO, runNode } from "../helpers/project.ts";

/** The README's test-example files: each code block right after `<!-- test-file: <path> … -->`. */
function readmeTestFiles(): Record<string, string> {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const files: Record<string, string> = {};
  for (const match of readme.matchAll(/<!-- test-file: (\S+)[^>]*-->\n```[a-z]*\n([\s\S]*?)```/g))
    files[match[1] as string] = match[2] as string;
  return files;
}

let project: Project | undefined;
afterAll(() => project?.remove());

describe("the README's createTestEnv example", () => {
  it("is in the README", () => {
    expect(Object.keys(readmeTestFiles()).sort()).toEqual(["renewal.test.ts", "workflows/renewal.ts"]);
  });

  it("runs green under node:test with the register hook, in well under the week it simulates", async () => {
    project = makeProject(readmeTestFiles());
    const wall = performance.now();
    const result = await runNode(
      ["--import", "stepwise-workflows/register", "--test", "renewal.test.ts"],
      project.dir,
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    expect(result.stdout).toMatch(/# pass 2/);
    expect(result.stdout).toMatch(/# fail 0/);
    // A generous bound (process start and compiling included): it did not wait a week, nor 35 s.
    expect(performance.now() - wall).toBeLessThan(30_000);
  });
});
