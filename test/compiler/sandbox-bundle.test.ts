/**
 * The sandbox bundle of a workflow file: what goes in (project files in workflow mode, npm
 * packages as they are), what is refused (Node built-ins anywhere in the graph), how it behaves
 * when evaluated against a registrar, how its stack traces map back, and the content-hash cache.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { ensureSandboxBundle } from "../../src/compiler/bundle-cache.ts";
import { CompileError } from "../../src/compiler/errors.ts";
import { buildSandboxBundle } from "../../src/compiler/sandbox-bundle.ts";
import { mapSandboxStack, registerSandboxSourceMap } from "../../src/runtime/sandbox-stack.ts";
import { makeProject } from "../helpers/project.ts";

const project = makeProject({
  "workflows/order.ts": [
    'import { sleep } from "stepwise-workflows";',
    'import { shout } from "tiny-pkg";',
    'import { label } from "../lib/label.ts";',
    'import { reserve } from "./steps.ts";',
    "",
    "async function charge(amount: number): Promise<string> {",
    '  "use step";',
    '  return "charged " + amount;',
    "}",
    "",
    "export async function order(id: string) {",
    '  "use workflow";',
    "  const reserved = await reserve(id);",
    '  await sleep("1s");',
    '  if (id === "fail") throw new Error("workflow failed");',
    "  return shout(label(reserved, await charge(10)));",
    "}",
    "",
  ].join("\n"),
  "workflows/steps.ts": [
    'import { readFileSync } from "node:fs";',
    "",
    "export async function reserve(id: string) {",
    '  "use step";',
    '  return readFileSync(id, "utf8");',
    "}",
    "",
  ].join("\n"),
  "lib/label.ts": 'export function label(a: string, b: string): string {\n  return a + " / " + b;\n}\n',
  "node_modules/tiny-pkg/package.json": JSON.stringify({ name: "tiny-pkg", main: "index.js" }),
  "node_modules/tiny-pkg/index.js": "exports.shout = (text) => text.toUpperCase() + '!';\n",
  "node_modules/bad-pkg/package.json": JSON.stringify({ name: "bad-pkg", main: "index.js" }),
  "node_modules/bad-pkg/index.js":
    "const fs = require('node:fs');\nexports.read = (p) => fs.readFileSync(p, 'utf8');\n",
  "workflows/uses-bad.ts":
    'import { read } from "bad-pkg";\n\nexport async function bad() {\n  "use workflow";\n  return read("x");\n}\n',
  "node_modules/host-pkg/package.json": JSON.stringify({ name: "host-pkg", main: "index.js" }),
  "node_modules/host-pkg/index.js":
    "const { start } = require('stepwise-workflows/api');\nexports.go = (w) => start(w);\n",
  "workflows/uses-host-api.ts":
    'import { go } from "host-pkg";\n\nexport async function hosty() {\n  "use workflow";\n  return go(1);\n}\n',
});
afterAll(() => project.remove());
const entry = join(project.dir, "workflows", "order.ts");

interface Registrar {
  registerWorkflow(id: string, fn: (...args: unknown[]) => Promise<unknown>): void;
  step(id: string): (...args: unknown[]) => Promise<unknown>;
  api: Record<string, unknown>;
}

function evaluate(code: string, filename: string) {
  const workflows = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const calls: Array<[string, unknown[]]> = [];
  const registrar: Registrar = {
    registerWorkflow: (id, fn) => workflows.set(id, fn),
    step:
      (id) =>
      async (...args) => {
        calls.push([id, args]);
        return `result of ${id.slice(id.lastIndexOf("/") + 1)}`;
      },
    api: { sleep: async () => undefined },
  };
  const context = vm.createContext({ [Symbol.for("stepwise.sandbox")]: { registrar } });
  new vm.Script(code, { filename }).runInContext(context);
  return { workflows, calls };
}

describe("buildSandboxBundle", () => {
  it("bundles the workflow file, its step files in workflow mode, helpers and npm packages", async () => {
    const outFile = join(project.dir, "out", "order.sandbox.js");
    const bundle = await buildSandboxBundle(entry, { outFile });
    expect(bundle.workflowIds).toEqual(["workflow//workflows/order.ts//order"]);
    expect(bundle.code).not.toContain("node:fs");
    expect(bundle.code).not.toContain("charged ");
    expect([...bundle.inputs.keys()].map((p) => p.slice(project.dir.length + 1)).sort()).toEqual([
      "lib/label.ts",
      "node_modules/tiny-pkg/index.js",
      "workflows/order.ts",
      "workflows/steps.ts",
    ]);
    expect(bundle.map.sources).toContain("../workflows/order.ts");

    const { workflows, calls } = evaluate(bundle.code, outFile);
    const run = workflows.get("workflow//workflows/order.ts//order");
    expect(run).toBeTypeOf("function");
    expect(await run?.("o-1")).toBe("RESULT OF RESERVE / RESULT OF CHARGE!");
    expect(calls).toEqual([
      ["step//workflows/steps.ts//reserve", ["o-1"]],
      ["step//workflows/order.ts//charge", [10]],
    ]);
  });

  it("maps stack traces from the bundle back to the workflow's file and line", async () => {
    const outFile = join(project.dir, "out", "mapped.sandbox.js");
    const bundle = await buildSandboxBundle(entry, { outFile });
    mkdirSync(join(project.dir, "out"), { recursive: true });
    writeFileSync(`${outFile}.map`, JSON.stringify(bundle.map));
    registerSandboxSourceMap(outFile, `${outFile}.map`);
    const { workflows } = evaluate(bundle.code, outFile);
    const error = (await workflows
      .get("workflow//workflows/order.ts//order")?.("fail")
      .catch((e: unknown) => e)) as Error;
    expect(error.stack).toContain(outFile);
    const mapped = mapSandboxStack(error.stack ?? "");
    expect(mapped).toContain(`${entry}:15:`);
    expect(mapped).not.toContain(outFile);
  });

  it("refuses a Node built-in imported by an npm package, naming the importer", async () => {
    const error = await buildSandboxBundle(join(project.dir, "workflows", "uses-bad.ts"), {
      outFile: join(project.dir, "out", "bad.js"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).file).toBe(join(project.dir, "node_modules", "bad-pkg", "index.js"));
    expect((error as CompileError).line).toBe(1);
    expect((error as Error).message).toContain('"node:fs" is a Node.js built-in module, imported by');
    expect((error as Error).message).toContain("Move the code that needs it into a step");
  });

  it("refuses the application API (stepwise-workflows/api) imported by an npm package", async () => {
    const error = await buildSandboxBundle(join(project.dir, "workflows", "uses-host-api.ts"), {
      outFile: join(project.dir, "out", "host.js"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as Error).message).toContain(
      '"stepwise-workflows/api" cannot be imported by workflow code',
    );
  });
});

describe("ensureSandboxBundle (the cache)", () => {
  const cacheDir = join(project.dir, "cache");

  it("builds once, reuses while nothing changed, and rebuilds when an imported file changes", async () => {
    const first = await ensureSandboxBundle(entry, { cacheDir });
    expect(first.built).toBe(true);
    expect(first.workflowIds).toEqual(["workflow//workflows/order.ts//order"]);
    const code = readFileSync(first.file, "utf8");
    expect(code.trimEnd().endsWith(`//# sourceMappingURL=${first.file.split("/").pop()}.map`)).toBe(true);

    const second = await ensureSandboxBundle(entry, { cacheDir });
    expect(second).toMatchObject({ built: false, file: first.file });

    const helper = join(project.dir, "lib", "label.ts");
    const original = readFileSync(helper, "utf8");
    writeFileSync(helper, original.replace('" / "', '" + "'));
    const third = await ensureSandboxBundle(entry, { cacheDir });
    expect(third.built).toBe(true);
    expect(third.file).not.toBe(first.file);
    expect(readFileSync(third.file, "utf8")).toContain('a + " + " + b');

    const pkg = join(project.dir, "node_modules", "tiny-pkg", "index.js");
    writeFileSync(pkg, readFileSync(pkg, "utf8").replace("'!'", "'?'"));
    const fourth = await ensureSandboxBundle(entry, { cacheDir });
    expect(fourth.built).toBe(true);
    expect(fourth.file).not.toBe(third.file);
  });
});
