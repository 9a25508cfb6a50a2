/**
 * How the compiler reads tsconfig `paths` and `baseUrl` and resolves imports with them
 * (`src/compiler/tsconfig.ts`, `src/compiler/tsconfig-paths.ts`), on real files in a temp
 * directory: comments and trailing commas, `extends` (relative, a package, an array, a cycle),
 * which directory each option is relative to, `${configDir}`, and TypeScript's choice of pattern.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${configDir} is TypeScript's placeholder, written as is
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readTsconfigPaths, stripJsonComments } from "../../src/compiler/tsconfig.ts";
import { matchPaths, resolveTsconfigImport } from "../../src/compiler/tsconfig-paths.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp project with these files (an empty string makes an empty module). */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "stepwise-tsconfig-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content || "export {};\n");
  }
  return dir;
}

const resolveFrom = (dir: string, specifier: string, importer = "app.ts") =>
  resolveTsconfigImport(specifier, join(dir, importer))?.file;

describe("stripJsonComments", () => {
  it("removes comments and trailing commas, and leaves strings alone", () => {
    const text = `{
      // a line comment, with "quotes"
      "a": "http://x/*not a comment*/", /* a block
      comment */ "b": [1, 2, ], "c": "a,}", "d": "\\"//\\"",
      "e": { "f": 1, /* before the brace */ },
    }`;
    expect(JSON.parse(stripJsonComments(text))).toEqual({
      a: "http://x/*not a comment*/",
      b: [1, 2],
      c: "a,}",
      d: '"//"',
      e: { f: 1 },
    });
  });
});

describe("readTsconfigPaths", () => {
  it("follows extends: relative without .json, a package, and an array (later entries win)", () => {
    const dir = project({
      "tsconfig.json": JSON.stringify({ extends: ["@acme/tsconfig", "./configs/paths"] }),
      "node_modules/@acme/tsconfig/tsconfig.json": JSON.stringify({
        compilerOptions: { baseUrl: "./base", paths: { "@pkg/*": ["./pkg/*"] } },
      }),
      "node_modules/@acme/tsconfig/index.js": "",
      "configs/paths.json": JSON.stringify({ compilerOptions: { paths: { "@/*": ["../src/*"] } } }),
    });
    const config = readTsconfigPaths(join(dir, "tsconfig.json"));
    expect(config.files).toEqual([
      join(dir, "tsconfig.json"),
      join(dir, "node_modules/@acme/tsconfig/tsconfig.json"),
      join(dir, "configs/paths.json"),
    ]);
    // baseUrl is relative to the file that set it, and paths are relative to baseUrl once there is one.
    expect(config.baseUrl).toBe(join(dir, "node_modules/@acme/tsconfig/base"));
    expect(config.pathsBase).toBe(config.baseUrl);
    expect(config.paths).toEqual([{ pattern: "@/*", substitutions: ["../src/*"] }]);
  });

  it("makes paths relative to the file that set them when there is no baseUrl; ${configDir} is the project's", () => {
    const dir = project({
      "tsconfig.json": JSON.stringify({ extends: "./configs/base.json" }),
      "configs/base.json": JSON.stringify({
        compilerOptions: { paths: { "@/*": ["../src/*"], "~/*": ["${configDir}/lib/*"] } },
      }),
      "src/util.ts": "",
      "lib/helper.ts": "",
    });
    expect(readTsconfigPaths(join(dir, "tsconfig.json")).pathsBase).toBe(join(dir, "configs"));
    expect(resolveFrom(dir, "@/util.js")).toBe(join(dir, "src/util.ts"));
    expect(resolveFrom(dir, "~/helper")).toBe(join(dir, "lib/helper.ts"));
  });

  it("refuses a cycle of extends, and names a missing extended file", () => {
    const dir = project({
      "tsconfig.json": JSON.stringify({ extends: "./a.json" }),
      "a.json": JSON.stringify({ extends: "./tsconfig.json" }),
      "b/tsconfig.json": JSON.stringify({ extends: "@missing/config" }),
    });
    expect(() => readTsconfigPaths(join(dir, "tsconfig.json"))).toThrow(/extends itself/);
    expect(() => readTsconfigPaths(join(dir, "b/tsconfig.json"))).toThrow(
      `extends "@missing/config", which cannot be found`,
    );
  });
});

describe("resolveTsconfigImport", () => {
  it("picks the exact pattern, else the longest prefix, and tries substitutions in order", () => {
    const paths = [
      { pattern: "@/*", substitutions: ["./src/*"] },
      { pattern: "@/lib/*", substitutions: ["./override/*", "./src/lib/*"] },
      { pattern: "@/lib/exact", substitutions: ["./exact.ts"] },
    ];
    expect(matchPaths(paths, "@/lib/x")).toEqual(["./override/x", "./src/lib/x"]);
    expect(matchPaths(paths, "@/lib/exact")).toEqual(["./exact.ts"]);
    expect(matchPaths(paths, "@/other")).toEqual(["./src/other"]);
    expect(matchPaths(paths, "lodash")).toEqual([]);

    const dir = project({
      "tsconfig.json": JSON.stringify({
        compilerOptions: { paths: Object.fromEntries(paths.map((p) => [p.pattern, p.substitutions])) },
      }),
      "src/lib/x.ts": "",
      "src/lib/y.ts": "",
      "override/y.ts": "",
      "src/dir/index.ts": "",
    });
    expect(resolveFrom(dir, "@/lib/x")).toBe(join(dir, "src/lib/x.ts"));
    expect(resolveFrom(dir, "@/lib/y.js")).toBe(join(dir, "override/y.ts"));
    expect(resolveFrom(dir, "@/dir")).toBe(join(dir, "src/dir/index.ts"));
    expect(resolveFrom(dir, "@/missing")).toBeUndefined();
  });

  it("resolves from baseUrl after paths, and leaves packages, built-ins and relative imports alone", () => {
    const dir = project({
      "tsconfig.json": `{ "compilerOptions": { "baseUrl": "./src", }, }`,
      "src/lib/x.ts": "",
    });
    expect(resolveFrom(dir, "lib/x")).toBe(join(dir, "src/lib/x.ts"));
    expect(resolveFrom(dir, "some-package")).toBeUndefined();
    expect(resolveFrom(dir, "node:fs")).toBeUndefined();
    expect(resolveFrom(dir, "fs")).toBeUndefined();
    expect(resolveFrom(dir, "./src/lib/x.ts")).toBeUndefined();
  });

  it("does not apply the project's tsconfig to files in node_modules", () => {
    const dir = project({
      "tsconfig.json": JSON.stringify({ compilerOptions: { paths: { "@/*": ["./src/*"] } } }),
      "src/x.ts": "",
    });
    expect(resolveFrom(dir, "@/x")).toBe(join(dir, "src/x.ts"));
    expect(resolveFrom(dir, "@/x", "node_modules/pkg/index.js")).toBeUndefined();
  });
});
