/**
 * The compiler inside other bundlers (`compileForBundler`, behind the Next.js loader and the Vite
 * plugin): server modules carry their sandbox bundle inlined, so the output runs wherever the
 * bundler puts it, with the bundle cache gone; a directive in a client bundle is a build error
 * naming the file and line; files without directives, and Stepwise's own, are left alone.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileForBundler } from "../../src/compiler/bundler.ts";
import { CompileError } from "../../src/compiler/errors.ts";
import { makeProject, REPO, runNode } from "../helpers/project.ts";

const WORKFLOW = [
  'import { sleep } from "stepwise-workflows";',
  "",
  "async function double(n: number): Promise<number> {",
  '  "use step";',
  "  return n * 2;",
  "}",
  "",
  "export async function twice(n: number) {",
  '  "use workflow";',
  '  await sleep("1ms");',
  "  return await double(await double(n));",
  "}",
  "",
].join("\n");

const project = makeProject({ "workflows/twice.ts": WORKFLOW });
afterAll(() => project.remove());

describe("compileForBundler", () => {
  it("server: the host module carries its sandbox bundle and runs from anywhere, without the cache", async () => {
    const file = join(project.dir, "workflows", "twice.ts");
    const result = await compileForBundler(file, WORKFLOW, "server");
    expect(result).toBeDefined();
    expect(result?.code).toContain("registerWorkflowBundleInline(");
    expect(result?.code).not.toContain("registerWorkflowBundleFile");
    expect(result?.code).not.toContain("import.meta.url");
    // Where a bundler would put it: elsewhere, renamed; and no bundle file left to read.
    mkdirSync(join(project.dir, "out", "chunks"), { recursive: true });
    writeFileSync(join(project.dir, "out", "chunks", "c1.mjs"), result?.code ?? "");
    rmSync(join(project.dir, "node_modules", ".cache"), { recursive: true, force: true });
    writeFileSync(
      join(project.dir, "out", "app.mjs"),
      [
        'import { start } from "stepwise-workflows/api";',
        'import { twice } from "./chunks/c1.mjs";',
        "const run = await start(twice, [5]);",
        "console.log(JSON.stringify({ id: twice.workflowId, result: await run.returnValue }));",
        "process.exit(0);",
      ].join("\n"),
    );
    const ran = await runNode([join(project.dir, "out", "app.mjs")], project.dir, {
      STEPWISE_WORLD: "memory",
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout.trim())).toEqual({ id: "workflow//workflows/twice.ts//twice", result: 20 });
  });

  it("server: a step-only file is compiled in host mode, with nothing inlined", async () => {
    const source = 'export async function s() {\n  "use step";\n  return 1;\n}\n';
    const result = await compileForBundler(join(project.dir, "steps.ts"), source, "server");
    expect(result?.code).toContain("registerStep(");
    expect(result?.code).not.toContain("registerWorkflowBundle");
  });

  it("client: a workflow in a browser bundle is a build error at the directive, saying what to do", async () => {
    const file = join(project.dir, "workflows", "twice.ts");
    const error = await compileForBundler(file, WORKFLOW, "client").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    const { line, column, message } = error as CompileError;
    expect([line, column]).toEqual([4, 3]);
    expect(message).toContain("workflows/twice.ts:4:3");
    expect(message).toContain("defines double(), twice() with");
    expect(message).toContain("browser (or edge) bundle");
    expect(message).toContain("Import the file only from server code");
  });

  it("leaves alone files without directives, a directive only mentioned in a string, and Stepwise's own files", async () => {
    const plain = "export const x = 1;\n";
    expect(await compileForBundler(join(project.dir, "a.ts"), plain, "server")).toBeUndefined();
    const mention = 'export const hint = "write \\"use step\\" in a function";\n';
    expect(await compileForBundler(join(project.dir, "b.ts"), mention, "client")).toBeUndefined();
    expect(await compileForBundler(join(project.dir, "b.ts"), mention, "server")).toBeUndefined();
    const own = join(REPO, "dist", "workflow", "api.js");
    expect(await compileForBundler(own, WORKFLOW, "server")).toBeUndefined();
  });

  it("refuses a misplaced directive with the compiler's own error", async () => {
    const arrow = 'export const f = async () => {\n  "use step";\n};\n';
    await expect(compileForBundler(join(project.dir, "c.ts"), arrow, "server")).rejects.toThrow(
      /c\.ts:2:3: .*arrow function/,
    );
  });
});
