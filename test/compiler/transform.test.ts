/**
 * The directive transform beyond the fixtures: line numbers and source maps back to the user's
 * file, syntax errors at the user's position, ids relative to the nearest package.json, specifier
 * rewriting for builds, and files the transform must leave alone.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../src/compiler/compile.ts";
import { CompileError } from "../../src/compiler/errors.ts";
import { transformDirectives } from "../../src/compiler/transform.ts";

const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}/input.ts`, import.meta.url));
const temp = mkdtempSync(join(tmpdir(), "stepwise-transform-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`${needle} not found`);
  return text.slice(0, index).split("\n").length;
}

describe("line numbers and source maps", () => {
  const file = fixture("line-numbers");
  const source = readFileSync(file, "utf8");

  it("keeps every line of the source where it was, in every mode", () => {
    for (const mode of ["workflow", "host", "client"] as const) {
      const { code } = transformDirectives(source, { filename: file, mode });
      const before = source.split("\n");
      const after = code.split("\n");
      for (const needle of [
        "export async function process",
        "await validate(orderId);",
        "throw new Error(`failed",
      ]) {
        if (!code.includes(needle)) continue;
        expect(lineOf(code, needle), `${mode}: ${needle}`).toBe(lineOf(source, needle));
      }
      expect(after.length).toBeGreaterThanOrEqual(before.length);
    }
  });

  it("maps the compiled JavaScript back to the original line and column", async () => {
    for (const mode of ["workflow", "host"] as const) {
      const result = await compile(source, { filename: file, mode });
      const map = new SourceMap(result.map as unknown as SourceMapPayload);
      const needle = mode === "workflow" ? "throw new Error" : "throw new FatalError";
      const line = lineOf(result.code, needle) - 1;
      const column = (result.code.split("\n")[line] ?? "").indexOf("throw");
      const entry = map.findEntry(line, column) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      expect(entry.originalSource).toBe("input.ts");
      expect((entry.originalLine ?? -1) + 1).toBe(lineOf(source, needle));
      expect(entry.originalColumn).toBe(
        (source.split("\n")[lineOf(source, needle) - 1] ?? "").indexOf("throw"),
      );
      expect(result.map.sourcesContent?.[0]).toBe(source);
    }
  });

  it("makes the map's sources relative to where the output will live", async () => {
    const outFile = join(file, "..", "..", "..", "out", "input.js");
    const result = await compile(source, { filename: file, mode: "host", outFile });
    expect(result.map.sources).toEqual(["../fixtures/line-numbers/input.ts"]);
  });
});

describe("type stripping", () => {
  it("follows the nearest tsconfig.json (experimentalDecorators, useDefineForClassFields)", async () => {
    mkdirSync(join(temp, "legacy"), { recursive: true });
    writeFileSync(
      join(temp, "legacy", "tsconfig.json"),
      '{\n  // comments are fine\n  "compilerOptions": { "experimentalDecorators": true, "useDefineForClassFields": false }\n}\n',
    );
    const source =
      "function log(target: object, key: string) {}\nexport class A {\n  @log m() {}\n  x = 1;\n}\n";
    const { code } = await compile(source, { filename: join(temp, "legacy", "a.ts"), mode: "host" });
    expect(code).toContain("__decorateClass");
    expect(code).toContain("this.x = 1");
  });
});

describe("syntax errors", () => {
  it("reports a TypeScript syntax error in a file with directives at the user's line and column", async () => {
    const file = join(temp, "broken.ts");
    const source =
      'import { sleep } from "stepwise-workflows";\n\nexport async function w() {\n  "use workflow";\n  const x: number = ;\n}\n';
    const error = await compile(source, { filename: file, mode: "host" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).line).toBe(5);
    expect((error as CompileError).column).toBe(21);
    expect((error as Error).message).toContain("broken.ts:5:21: Syntax error");
    expect((error as Error).message).toContain("> 5 |   const x: number = ;");
    expect((error as Error).stack).toContain(`at ${file}:5:21`);
  });

  it("reports a syntax error in a file without directives (esbuild) at the user's line and column", async () => {
    const file = join(temp, "plain.ts");
    const error = await compile("const a: number = 1;\nconst b = a +;\n", {
      filename: file,
      mode: "host",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).line).toBe(2);
    expect((error as Error).message).toMatch(/plain\.ts:2:\d+: Syntax error/);
  });

  it("counts columns in UTF-16 units, like editors", () => {
    const file = join(temp, "unicode.ts");
    const source = '// héllo 😀\nexport const f = async () => {\n  "use step";\n};\n';
    const error = (() => {
      try {
        transformDirectives(source, { filename: file, mode: "workflow" });
      } catch (e) {
        return e as CompileError;
      }
      throw new Error("expected an error");
    })();
    expect([error.line, error.column]).toEqual([3, 3]);
  });
});

describe("ids", () => {
  it("are relative to the nearest directory with a package.json", () => {
    mkdirSync(join(temp, "app", "src", "flows"), { recursive: true });
    mkdirSync(join(temp, "app", "packages", "lib"), { recursive: true });
    writeFileSync(join(temp, "app", "package.json"), "{}");
    writeFileSync(join(temp, "app", "packages", "lib", "package.json"), "{}");
    const source =
      'export async function run() {\n  "use workflow";\n}\nasync function s() {\n  "use step";\n}\n';
    const a = transformDirectives(source, {
      filename: join(temp, "app", "src", "flows", "a.ts"),
      mode: "host",
    });
    expect(a.workflows).toEqual([{ name: "run", id: "workflow//src/flows/a.ts//run" }]);
    expect(a.steps).toEqual([{ name: "s", id: "step//src/flows/a.ts//s" }]);
    const b = transformDirectives(source, {
      filename: join(temp, "app", "packages", "lib", "b.ts"),
      mode: "workflow",
    });
    expect(b.workflows[0]?.id).toBe("workflow//b.ts//run");
  });
});

describe("leaves alone what it should", () => {
  it("returns a file without directives unchanged in host and client mode, without parsing it", () => {
    const source = "this is not even JavaScript {{{";
    for (const mode of ["host", "client"] as const) {
      const result = transformDirectives(source, { filename: join(temp, "x.ts"), mode });
      expect(result.changed).toBe(false);
      expect(result.code).toBe(source);
    }
  });

  it("ignores directive-like strings in comments, template literals and other strings", () => {
    const source = '// "use step"\nexport async function f() {\n  return `"use workflow"` + "use step";\n}\n';
    const result = transformDirectives(source, { filename: join(temp, "y.ts"), mode: "host" });
    expect(result.changed).toBe(false);
    expect(result.warnings).toEqual([]);
  });

  it("keeps a hashbang first", () => {
    const source = '#!/usr/bin/env node\nexport async function w() {\n  "use workflow";\n}\n';
    const { code } = transformDirectives(source, { filename: join(temp, "bin.ts"), mode: "host" });
    expect(code.startsWith("#!/usr/bin/env node\nimport * as __stepwise")).toBe(true);
  });

  it("picks a helper name the file does not use", () => {
    const source =
      'const __stepwise = 1;\nexport async function w() {\n  "use workflow";\n  return __stepwise;\n}\n';
    const { code } = transformDirectives(source, { filename: join(temp, "n.ts"), mode: "workflow" });
    expect(code).toContain("const __stepwise2 = globalThis");
    expect(code).toContain("__stepwise2.registerWorkflow(");
  });
});

describe("rewriting specifiers (ahead-of-time builds)", () => {
  it("rewrites static imports, re-exports and import() calls, and keeps the rewrite when an import is pruned", () => {
    const source = [
      'import { a } from "./a.ts";',
      'import { onlyInStep } from "./b.ts";',
      'export { c } from "./c.ts";',
      "export async function w() {",
      '  "use workflow";',
      '  await import("./d.ts");',
      "  return a;",
      "}",
      "async function s() {",
      '  "use step";',
      "  return onlyInStep;",
      "}",
      "",
    ].join("\n");
    const rewrite = (spec: string) => (spec.startsWith("./") ? spec.replace(/\.ts$/, ".js") : undefined);
    const host = transformDirectives(source, {
      filename: join(temp, "r.ts"),
      mode: "host",
      rewriteSpecifier: rewrite,
    });
    expect(host.code).toContain('import "./a.js";');
    expect(host.code).toContain('import { onlyInStep } from "./b.js";');
    expect(host.code).toContain('export { c } from "./c.js";');
    const workflow = transformDirectives(source, {
      filename: join(temp, "r.ts"),
      mode: "workflow",
      rewriteSpecifier: rewrite,
    });
    expect(workflow.code).toContain('import { a } from "./a.js";');
    expect(workflow.code).not.toContain("./b.");
    expect(workflow.code).toContain('await import("./d.js")');
  });
});
