/**
 * The layers of docs/architecture.md §1, checked on the source rather than remembered by
 * reviewers (STYLE point 18): every relative import (static, `export … from`, and `import("…")`
 * with a literal) of every file under src/ is resolved to the top-level folder it lands in, and
 * each layer may reach only the layers below it. `runtime/` never learns which World is in use
 * (the process setup, `process/`, decides that above it), the client core (`client/`) writes
 * through a World it is given, and `workflow/` (bundled into the sandbox) imports nothing from Node.
 * Above `runtime/`, a value becomes stored bytes in one place, `client/store.ts` (the only caller
 * of the per-payload limit check outside the runtime). Configuration is passed, not smuggled
 * through the environment: no source file writes
 * `process.env.STEPWISE_WORKER` (the CLI turns the in-process worker off with `configure`). The
 * optional peer `@opentelemetry/api` is never imported at run time (only `import type`): a user
 * without it must be able to load every module.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Layer → the top-level folders (or root files) under src/ it must not import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  runtime: ["worlds", "api", "cli", "http", "client", "process", "testing", "ops"],
  world: ["worlds", "runtime", "api", "cli", "http", "client", "process", "testing", "ops"],
  serde: ["worlds", "runtime", "api", "cli", "http", "client", "process", "testing", "ops"],
  workflow: ["worlds", "api", "cli", "http", "client", "process", "testing", "ops"],
  client: ["worlds", "api", "cli", "http", "process", "testing"],
  api: ["worlds", "cli", "http", "testing"],
  process: ["api", "cli", "http", "testing"],
  http: ["cli", "testing", "worlds"],
};

/**
 * Files that are a package entry rather than a layer's code, with what they may import besides:
 * `stepwise-workflows/world` and `…/world/testing` ship the memory World with the interface.
 */
const ENTRIES: Record<string, readonly string[]> = {
  "world/index.ts": ["worlds"],
  "world/testing/": ["worlds"],
};

const exempt = (i: Import): boolean =>
  Object.entries(ENTRIES).some(
    ([entry, allowed]) =>
      relative(SRC, i.file).split(sep).join("/").startsWith(entry) && allowed.includes(i.layer ?? ""),
  );

interface Import {
  file: string;
  specifier: string;
  /** The top-level folder under src/ (or the root file) the import lands in; undefined outside src/. */
  layer: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((match) => {
    const specifier = match[1] ?? "";
    if (!specifier.startsWith(".")) return { file, specifier, layer: undefined };
    const target = relative(SRC, resolve(dirname(file), specifier));
    return { file, specifier, layer: target.startsWith("..") ? undefined : target.split(sep)[0] };
  });
}

const layerOf = (file: string): string => relative(SRC, file).split(sep)[0] ?? "";
const files = sourceFiles(SRC);
const shown = (found: Import[]) => found.map((i) => `${relative(SRC, i.file)} imports ${i.specifier}`);

describe("the layers of src/", () => {
  it("finds the imports it checks (the scan itself works)", () => {
    const processImports = importsOf(join(SRC, "process/world-env.ts"));
    expect(processImports.map((i) => i.layer)).toContain("worlds");
    expect(files.length).toBeGreaterThan(100);
  });

  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${layer}/ imports nothing from ${forbidden.join(", ")}`, () => {
      const found = files
        .filter((file) => layerOf(file) === layer)
        .flatMap(importsOf)
        .filter((i) => i.layer !== undefined && forbidden.includes(i.layer) && !exempt(i));
      expect(shown(found)).toEqual([]);
    });
  }

  it("workflow/ imports nothing from Node (it runs in the sandbox)", () => {
    const found = files
      .filter((file) => layerOf(file) === "workflow")
      .flatMap(importsOf)
      .filter((i) => i.layer === undefined && i.specifier.startsWith("node:"));
    expect(shown(found)).toEqual([]);
  });

  it("ai/: the sandbox and browser modules import nothing but each other and types; only the entry loads the peer `ai`", () => {
    // workflow.ts is bundled into the workflow sandbox, transport.ts and response.ts into browsers.
    const portable = [
      "ai/workflow.ts",
      "ai/step-names.ts",
      "ai/json-check.ts",
      "ai/transport.ts",
      "ai/response.ts",
      "ai/browser.ts",
    ];
    const found = files
      .filter((file) => portable.includes(relative(SRC, file).split(sep).join("/")))
      .flatMap((file) =>
        [
          ...readFileSync(file, "utf8").matchAll(
            /^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s*["']([^"']+)["']/gm,
          ),
        ]
          // Type-only imports are erased; each other's files are portable too.
          .filter((m) => m[2] === undefined && !/^\.\/[\w-]+\.ts$/.test(m[3] ?? ""))
          .map((m) => `${relative(SRC, file)} imports ${m[3]}`),
      );
    expect(found).toEqual([]);
    // A user without the optional peer `ai` loads every other module: nothing outside ai/ imports it.
    const outside = files
      .filter((file) => layerOf(file) !== "ai")
      .flatMap(importsOf)
      .filter((i) => i.layer === "ai" || i.specifier === "ai" || i.specifier.startsWith("ai/"));
    expect(shown(outside)).toEqual([]);
  });

  it("no source file writes process.env.STEPWISE_WORKER (configuration says it: configure({ inProcessWorker }))", () => {
    const writes = files.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .map((line, index) => ({ line, index }))
        .filter(({ line }) => /process\.env\.STEPWISE_WORKER\s*=[^=]/.test(line))
        .map(({ index }) => `${relative(SRC, file)}:${index + 1}`),
    );
    expect(writes).toEqual([]);
  });

  it("no source file imports @opentelemetry/* at run time (an optional peer: runtime/tracing.ts loads it lazily)", () => {
    const imports = files.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .map((line, index) => ({ line, index }))
        // Type-only imports are erased; anything else would make the package fail without it.
        .filter(({ line }) => /\bfrom\s+["']@opentelemetry\//.test(line) && !/^\s*import\s+type\b/.test(line))
        .concat(
          readFileSync(file, "utf8")
            .split("\n")
            .map((line, index) => ({ line, index }))
            .filter(({ line }) => /\b(import|require)\(\s*["']@opentelemetry\//.test(line)),
        )
        .map(({ index }) => `${relative(SRC, file)}:${index + 1}`),
    );
    expect(imports).toEqual([]);
  });

  it("above runtime/, only client/store.ts checks a payload's size (one seal path for every door)", () => {
    const callers = files
      .filter((file) => !["runtime", "serde", "world", "worlds"].includes(layerOf(file)))
      .filter((file) => /\bcheckPayload\(/.test(readFileSync(file, "utf8")))
      .map((file) => relative(SRC, file).split(sep).join("/"));
    expect(callers).toEqual(["client/store.ts"]);
  });
});
