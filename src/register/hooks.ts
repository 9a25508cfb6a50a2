/**
 * The module hooks behind `stepwise-workflows/register` (installed with `module.register`, so on Node 20
 * they run on the loader thread, and so does the bundling they trigger). `resolve` maps the
 * project's tsconfig `paths` / `baseUrl` first, as TypeScript does, and finds `.ts` files behind
 * the relative specifiers TypeScript projects write (`./x.js`, `./x`, `./dir`); `load` compiles
 * `.ts` and `.mts` files, and `.js` / `.mjs` files that contain directives (the project's, and
 * those of npm packages that ship durable code), in host mode, building the sandbox bundle of each
 * workflow file through the cache. A CommonJS file with a directive is refused. Compile errors
 * surface as the failed import's error, at the user's file and line.
 */
import { readFile } from "node:fs/promises";
import type { LoadHook, ResolveHook } from "node:module";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { commonJsDirectiveError } from "../compiler/commonjs.ts";
import { PACKAGE_NAME } from "../compiler/package-name.ts";
import { inNodeModules, PACKAGE_DIRECTIVE_TEXT, packageOf } from "../compiler/packages.ts";
import { isPathSpecifier, resolveSourcePath } from "../compiler/resolve.ts";
import { mayContainDirectives } from "../compiler/transform.ts";
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

/**
 * Whether a file may need compiling, by its text: project files with a directive or a serializable
 * class; files of npm packages only with a directive (so node_modules stays fast), and never
 * Stepwise's own files, which mention directives in their messages.
 */
function mayNeedCompiling(path: string, source: string): boolean {
  if (!inNodeModules(path)) return mayContainDirectives(source);
  return PACKAGE_DIRECTIVE_TEXT.test(source) && packageOf(path)?.name !== PACKAGE_NAME;
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
  if (!JAVASCRIPT.has(ext)) return nextLoad(url, context);
  const loaded = await nextLoad(url, context);
  if (loaded.format === "commonjs") {
    // Directives need ES modules: a CommonJS file with one fails instead of running as plain code.
    const source =
      loaded.source === undefined || loaded.source === null
        ? await readFile(path, "utf8")
        : String(loaded.source);
    if (mayNeedCompiling(path, source)) {
      const error = commonJsDirectiveError(path, source);
      if (error !== undefined) throw error;
    }
    return loaded;
  }
  if (loaded.format !== "module" || loaded.source === undefined || loaded.source === null) return loaded;
  const source =
    typeof loaded.source === "string"
      ? loaded.source
      : Buffer.from(loaded.source as Uint8Array).toString("utf8");
  if (!mayNeedCompiling(path, source)) return loaded;
  const compiled = await compileModule(path, source);
  report(compiled.warnings);
  // A package file that only mentions a directive (in a string, a comment) runs as published.
  if (inNodeModules(path) && !compiled.compiled) return loaded;
  return { format: "module", source: compiled.source, shortCircuit: true };
};
