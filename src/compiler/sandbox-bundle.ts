/**
 * Builds the sandbox bundle of one workflow file: esbuild bundles the file and everything it
 * imports into one classic script (IIFE), every project file compiled in workflow mode on the way
 * in (step bodies become stubs, `stepwise-workflows` the sandbox api, Node built-ins refused), and
 * so is every file of an npm package that carries a directive (found by a text test first, so the
 * rest of node_modules is bundled as it is, untouched); a Node built-in anywhere in the graph fails
 * the build with the importer and the fix. Imports the project maps in its tsconfig (`paths`, `baseUrl`) resolve as in
 * the register hooks (`tsconfig-paths.ts`). The source map leads back to the user's files; the
 * result also lists every file read (tsconfig files that mapped an import included), for the cache.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildFailure, build, type Message, type Plugin } from "esbuild";
import { SANDBOX_SERDE } from "./classes.ts";
import { commonJsDirectiveError, isCommonJs } from "./commonjs.ts";
import { loaderFor, type SourceMapJson, withInlineMap } from "./compile.ts";
import { CompileError, CompileWarning } from "./errors.ts";
import { isNodeBuiltin } from "./imports.ts";
import { PACKAGE_NAME, WORKFLOW_ENTRIES } from "./package-name.ts";
import { inNodeModules, PACKAGE_DIRECTIVE_TEXT, packageOf } from "./packages.ts";
import { displayPath } from "./positions.ts";
import { findProjectRoot } from "./project.ts";
import { transformDirectives } from "./transform.ts";
import { resolveTsconfigImport } from "./tsconfig-paths.ts";

export interface SandboxBundle {
  /** The script, without a sourceMappingURL comment. */
  code: string;
  /** Its source map; sources are relative to the directory of `outFile`. */
  map: SourceMapJson;
  /** Every file the bundle was built from, with the sha256 of the content used. */
  inputs: Map<string, string>;
  /** The workflows the entry file defines. */
  workflowIds: string[];
  warnings: CompileWarning[];
}

export interface SandboxBundleOptions {
  /** Where the bundle will be written (the map's sources are relative to its directory). */
  outFile: string;
  /** The project root (ids are relative to it); by default the entry's nearest package.json. */
  root?: string;
}

const API_NAMESPACE = "stepwise-sandbox-api";
const SOURCE_FILE = /\.[cm]?[jt]sx?$/;

export const sha256 = (content: string | Buffer): string =>
  createHash("sha256").update(content).digest("hex");

/**
 * The sandbox-safe module of an entry workflow code may import (`WORKFLOW_ENTRIES`): the built
 * `.js` beside the compiler in `dist/`, the `.ts` source when the compiler itself runs from `src/`.
 */
function workflowEntryFile(specifier: string): string {
  const module = WORKFLOW_ENTRIES.get(specifier);
  if (module === undefined) throw new Error(`${specifier} is not an entry workflow code can import`);
  const js = fileURLToPath(new URL(`${module}.js`, import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL(`${module}.ts`, import.meta.url));
}

function sandboxPlugin(entry: string, root: string, state: Omit<SandboxBundle, "code" | "map">): Plugin {
  const reason = `it is bundled into the workflow sandbox of ${displayPath(entry)}, which runs without Node.js APIs`;
  return {
    name: "stepwise-sandbox",
    setup(b) {
      b.onResolve({ filter: /^stepwise-workflows$/ }, () => ({
        path: PACKAGE_NAME,
        namespace: API_NAMESPACE,
      }));
      b.onResolve({ filter: /^stepwise-workflows\/ai$/ }, (args) => ({ path: workflowEntryFile(args.path) }));
      b.onResolve({ filter: /^stepwise-workflows\// }, (args) => ({
        errors: [
          {
            text: `"${args.path}" cannot be imported by workflow code (${reason}). Call it from a step ("use step").`,
          },
        ],
      }));
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (!isNodeBuiltin(args.path)) {
          // The project's tsconfig `paths` / `baseUrl`, resolved as the register hooks and the build do.
          const mapped = resolveTsconfigImport(args.path, args.importer);
          if (mapped === undefined) return undefined;
          for (const file of mapped.tsconfigFiles)
            if (!state.inputs.has(file)) state.inputs.set(file, sha256(await readFile(file)));
          return { path: mapped.file };
        }
        return {
          errors: [
            {
              text: `"${args.path}" is a Node.js built-in module, imported by ${displayPath(args.importer)}; ${reason}. Move the code that needs it into a step ("use step"), or keep that import out of the files workflow code imports.`,
            },
          ],
        };
      });
      b.onLoad({ filter: /.*/, namespace: API_NAMESPACE }, () => ({
        // The run's api, plus the realm's serialization helpers (serialize, deserialize, registerClass).
        contents: `module.exports = { ...globalThis[Symbol.for("stepwise.sandbox")].registrar.api, ...${SANDBOX_SERDE} };`,
        loader: "js",
      }));
      b.onLoad({ filter: SOURCE_FILE }, async (args) => {
        const inPackage = inNodeModules(args.path);
        if (inPackage && packageOf(args.path)?.name === PACKAGE_NAME) return undefined;
        const source = await readFile(args.path, "utf8");
        // Package files are bundled as published unless they carry a directive (a cheap text test).
        if (inPackage && args.path !== entry && !PACKAGE_DIRECTIVE_TEXT.test(source)) return undefined;
        if (inPackage && isCommonJs(args.path)) {
          const error = commonJsDirectiveError(args.path, source);
          if (error !== undefined) throw error;
          return undefined;
        }
        state.inputs.set(args.path, sha256(source));
        const result = transformDirectives(source, {
          filename: args.path,
          mode: "workflow",
          root: args.path === entry ? root : findProjectRoot(args.path),
          ...(args.path === entry ? {} : { bundleEntry: displayPath(entry) }),
        });
        state.warnings.push(...result.warnings);
        if (args.path === entry) state.workflowIds = result.workflows.map((w) => w.id);
        if (inPackage && !result.changed) return undefined;
        const contents = result.changed
          ? withInlineMap(result.code, { ...result.map, sources: [basename(args.path)] })
          : source;
        return { contents, loader: loaderFor(args.path), resolveDir: dirname(args.path) };
      });
    },
  };
}

function toCompileError(message: Message, root: string): Error {
  const detail: unknown = message.detail;
  if (detail instanceof CompileError) return detail;
  const location = message.location;
  if (location === null) return new Error(`Building the workflow sandbox failed: ${message.text}`);
  const file = isAbsolute(location.file) ? location.file : resolve(root, location.file);
  const pointer = `${" ".repeat(location.column)}^`;
  return new CompileError(
    { file, line: location.line, column: location.column + 1 },
    message.text,
    undefined,
    `> ${location.line} | ${location.lineText}\n  ${" ".repeat(String(location.line).length)} | ${pointer}`,
  );
}

export async function buildSandboxBundle(
  entry: string,
  options: SandboxBundleOptions,
): Promise<SandboxBundle> {
  const root = options.root ?? packageOf(entry)?.projectRoot ?? findProjectRoot(entry);
  const state: Omit<SandboxBundle, "code" | "map"> = { inputs: new Map(), workflowIds: [], warnings: [] };
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      write: false,
      format: "iife",
      platform: "neutral",
      target: "es2022",
      mainFields: ["module", "main"],
      outfile: options.outFile,
      sourcemap: "external",
      sourcesContent: true,
      keepNames: true,
      metafile: true,
      logLevel: "silent",
      legalComments: "none",
      // Packages commonly read NODE_ENV; the sandbox has no `process`, so it is a build-time constant.
      define: { "process.env.NODE_ENV": '"production"' },
      plugins: [sandboxPlugin(entry, root, state)],
    });
  } catch (error) {
    const first = (error as Partial<BuildFailure>).errors?.[0];
    if (first !== undefined) throw toCompileError(first, root);
    throw error;
  }
  for (const warning of result.warnings) {
    const at = warning.location;
    if (at !== null)
      state.warnings.push(new CompileWarning(resolve(root, at.file), at.line, at.column + 1, warning.text));
  }
  for (const key of Object.keys(result.metafile?.inputs ?? {})) {
    if (/^[a-z-]+:/.test(key)) continue;
    const path = resolve(root, key);
    if (!state.inputs.has(path)) state.inputs.set(path, sha256(await readFile(path)));
  }
  const outputs = result.outputFiles ?? [];
  const js = outputs.find((f) => f.path.endsWith(".js"));
  const map = outputs.find((f) => f.path.endsWith(".map"));
  if (js === undefined || map === undefined)
    throw new Error(`Building the workflow sandbox of ${entry} produced no output.`);
  const code = js.text.replace(/\n?\/\/# sourceMappingURL=.*\s*$/, "\n");
  return { ...state, code, map: JSON.parse(map.text) as SourceMapJson };
}
