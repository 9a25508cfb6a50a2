/**
 * The ahead-of-time build: `buildProject` compiles the app for production, and the output runs
 * with plain `node` (no loader), stack traces mapping to the sources with --enable-source-maps.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildProjectResult, buildProject } from "../../src/compiler/build.ts";
import { CompileError } from "../../src/compiler/errors.ts";
import { makeProject, type Project, REPO, runNode } from "../helpers/project.ts";
import { APP_FILES } from "./helpers/app-files.ts";

let project: Project;
let built: BuildProjectResult;
const out = (path: string) => join(project.dir, "dist", path);

beforeAll(async () => {
  if (!existsSync(join(REPO, "dist", "internal.js")))
    throw new Error("dist/ is missing: run npm run build first.");
  project = makeProject(APP_FILES);
  built = await buildProject({
    root: project.dir,
    entries: ["app.ts", "fail.ts", "direct.ts"],
    outDir: "dist",
  });
});
afterAll(() => project.remove());

describe("buildProject", () => {
  it("emits every reachable project file as JavaScript, with rewritten imports and source maps", () => {
    const rel = (p: string) => p.slice(project.dir.length + 1);
    expect(built.modules.map((m) => rel(m.output)).sort()).toEqual([
      "dist/app.js",
      "dist/direct.js",
      "dist/fail.js",
      "dist/lib/decorate.mjs",
      "dist/lib/describe.js",
      "dist/workflows/order.js",
      "dist/workflows/plain.js",
      "dist/workflows/steps.js",
    ]);
    expect(built.bundles.map((b) => [rel(b.output), b.workflowIds])).toEqual([
      ["dist/workflows/order.sandbox.js", ["workflow//workflows/order.ts//order"]],
      ["dist/workflows/plain.sandbox.js", ["workflow//workflows/plain.js//doubler"]],
    ]);
    expect(built.stepIds.sort()).toEqual([
      "step//workflows/order.ts//confirm",
      "step//workflows/plain.js//double",
      "step//workflows/steps.ts//chargeCard",
    ]);
    const order = readFileSync(out("workflows/order.js"), "utf8");
    expect(order).toContain('import "../lib/describe.js";');
    expect(order).toContain('import "./steps.js";');
    expect(order).toContain('registerWorkflowBundleFile(new URL("./order.sandbox.js", import.meta.url)');
    expect(order).toContain("//# sourceMappingURL=order.js.map");
    expect(JSON.parse(readFileSync(out("workflows/order.js.map"), "utf8")).sources).toEqual([
      "../../workflows/order.ts",
    ]);
    expect(readFileSync(out("lib/describe.js"), "utf8")).toContain('from "./decorate.mjs"');
    expect(existsSync(out("workflows/order.sandbox.js.map"))).toBe(true);
  });

  it("runs with plain node, no loader", async () => {
    const result = await runNode(["dist/app.js", "o-9"], project.dir);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual(['{"id":"o-9","text":"<confirmed o-9 for 42>"}', "42"]);
  });

  it("maps stack traces to the sources (steps with --enable-source-maps, workflow code through mapSandboxErrorStacks)", async () => {
    const result = await runNode(["--enable-source-maps", "dist/fail.js", "decline", "explode"], project.dir);
    const [, decline = "", explode = ""] = result.stdout.split(/^--- /m);
    expect(decline).toMatch(/at chargeCard \(.*workflows\/steps\.ts:6:\d+\)/);
    expect(explode).toMatch(/at order \(.*workflows\/order\.ts:14:\d+\)/);
  });

  it("fails on a misused directive with the file and line", async () => {
    project.write("bad.ts", 'export const f = async () => {\n  "use workflow";\n};\n');
    const error = await buildProject({ root: project.dir, entries: ["bad.ts"], outDir: "dist-bad" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).file).toBe(join(project.dir, "bad.ts"));
    expect((error as CompileError).line).toBe(2);
  });
});
