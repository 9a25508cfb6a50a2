/**
 * The module hooks behind `stepwise-workflows/register` (installed with `module.register`, so on Node 20
 * they run on the loader thread, and so does the bundling they trigger). `resolve` maps the
 * project's tsconfig `paths` / `baseUrl` first, as TypeScript does, and finds `.ts` files behind
 * the relative specifiers TypeScript projects write (`./x.js`, `./x`, `./dir`); `load` compiles
 * `.ts` and `.mts` files, and `.js` / `.mjs` files outside node_modules that contain directives,
 * in host mode, building the sandbox bundle of each workflow file through the cache. Compile
 * errors surface as the failed import's error, at the user's file and line.
 */
import { readFile } from "node:fs/promises";
import type { LoadHook, ResolveHook } from "node:module";
import { extname, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CompileError } from "../compiler/errors.ts";
import { isPathSpecifier, resolveSourcePath } from "../compiler/resolve.ts";
import { mayContainDirectives, transformDirectives } from "../compiler/transform.ts";
import { resolveTsconfigImport } from "../compiler/tsconfig-paths.ts";
import { compileModule } from "./compile-module.ts";

const TYPESCRIPT = new Set([".ts", ".mts"]);
const JAVASCRIPT = new Set([".js", ".mjs", ".cjs"]);
const printed = new Set<string>();

function report(warnings: readonly { toString(): string }[]): void {
  for (const warning of warnings) {
    const text = String(warning);
    if (printed.has(text)) continue;
    printed.add(text);
    console.warn(text);
  }
}

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const parent = context.parentURL?.startsWith("file:") ? fileURLToPath(context.parentURL) : undefined;
  if (parent !== undefined) {
    // tsconfig `paths` / `baseUrl` come first, as in TypeScript (`@/lib/util.ts` → ./src/lib/util.ts).
    const mapped = resolveTsconfigImport(specifier, parent);
    if (mapped !== undefined) return { url: pathToFileURL(mapped.file).href, shortCircuit: true };
  }
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (
      (code === "ERR_MODULE_NOT_FOUND" || code === "ERR_UNSUPPORTED_DIR_IMPORT") &&
      parent !== undefined &&
      isPathSpecifier(specifier)
    ) {
      const found = resolveSourcePath(specifier, parent);
      if (found !== undefined) return { url: pathToFileURL(found).href, shortCircuit: true };
    }
    throw error;
  }
};

/** Directives only work in ES modules; a CommonJS file that has them fails instead of silently ignoring them. */
function refuseCommonJs(path: string, source: string): void {
  let found: { name: string } | undefined;
  try {
    const result = transformDirectives(source, { filename: path, mode: "host" });
    found = [...result.workflows, ...result.steps][0];
  } catch {
    return;
  }
  if (found === undefined) return;
  throw new CompileError(
    { file: path, line: 1, column: 1 },
    `This file is CommonJS, but \`${found.name}\` carries a directive, and directives only work in ES modules.`,
    `make it an ES module: rename it to .mjs or .mts, or set "type": "module" in its package.json.`,
  );
}

export const load: LoadHook = async (url, context, nextLoad) => {
  if (!url.startsWith("file:")) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const ext = extname(path);
  if (TYPESCRIPT.has(ext)) {
    const compiled = await compileModule(path, await readFile(path, "utf8"));
    report(compiled.warnings);
    return { format: "module", source: compiled.source, shortCircuit: true };
  }
  if (!JAVASCRIPT.has(ext) || path.includes(`${sep}node_modules${sep}`)) return nextLoad(url, context);
  const loaded = await nextLoad(url, context);
  if (loaded.format === "commonjs") {
    const source = await readFile(path, "utf8");
    if (mayContainDirectives(source)) refuseCommonJs(path, source);
    return loaded;
  }
  if (loaded.format !== "module" || loaded.source === undefined || loaded.source === null) return loaded;
  const source =
    typeof loaded.source === "string"
      ? loaded.source
      : Buffer.from(loaded.source as Uint8Array).toString("utf8");
  if (!mayContainDirectives(source)) return loaded;
  const compiled = await compileModule(path, source);
  report(compiled.warnings);
  return { format: "module", source: compiled.source, shortCircuit: true };
};
