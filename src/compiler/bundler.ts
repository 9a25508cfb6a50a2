/**
 * The compiler inside another bundler (Next.js with webpack or Turbopack, Vite): one source file
 * in, what the bundler should use instead out. The bundler plugins (`src/next/loader.ts`,
 * `src/vite/plugin.ts`) are thin wrappers around `compileForBundler`.
 *
 * - **server** code is compiled in host mode, as the register hook does, except for the sandbox
 *   bundle: the bundler moves and renames the module (into `.next/`, `dist/`), so a bundle file
 *   beside it cannot be found at run time by a URL relative to `import.meta.url`. The bundle's
 *   text (and its source map) is inlined into the module instead, and registered with
 *   `registerWorkflowBundleInline`: the built server carries its workflow code with it, and the
 *   bundle is byte for byte the one the register hook would load (the same hash, so runs started
 *   here can be driven by `npx stepwise worker` and the other way round).
 * - **client** code (the browser bundle, the edge runtime) must not contain workflows or steps:
 *   they need Node and the World. A file with a real directive there is a build error that names
 *   the file and says what to do; a file that only mentions one in a string is left alone.
 *
 * Stepwise's own files are never touched (they mention the directives in messages).
 */
import { readFile } from "node:fs/promises";
import { dirname, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureSandboxBundle } from "./bundle-cache.ts";
import { compile, type SourceMapJson } from "./compile.ts";
import { CompileError, type CompileWarning } from "./errors.ts";
import { PACKAGE_DIRECTIVE_TEXT } from "./packages.ts";
import { mayContainDirectives } from "./transform.ts";

/** Where the compiled module runs: on the Node server, or in a browser / edge bundle. */
export type BundlerTarget = "server" | "client";

export interface BundlerModule {
  code: string;
  map: SourceMapJson;
  warnings: CompileWarning[];
  /** Files the output depends on besides the module itself (its sandbox bundle's inputs). */
  dependencies: string[];
}

const PLACEHOLDER = "stepwise:sandbox-bundle";
const FILE_REGISTRATION =
  /registerWorkflowBundleFile\(new URL\("stepwise:sandbox-bundle", import\.meta\.url\), /;
const SOURCE_FILE = /\.[cm]?[jt]sx?$/;

/** The root of the installed `stepwise-workflows` package (dist/compiler → two levels up). */
const OWN_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** True for Stepwise's own files, which are never compiled. */
function isOwnFile(file: string): boolean {
  const rel = relative(OWN_ROOT, file);
  return (
    rel !== "" &&
    !rel.startsWith("..") &&
    (rel.startsWith(`dist${sep}`) || rel.startsWith(`src${sep}`)) &&
    !rel.includes(`node_modules${sep}`)
  );
}

/** 1-based line and column of the first directive in `source` (where the error points). */
function firstDirective(source: string): { line: number; column: number } {
  const index = Math.max(0, source.search(PACKAGE_DIRECTIVE_TEXT));
  const before = source.slice(0, index);
  return { line: before.split("\n").length, column: index - before.lastIndexOf("\n") };
}

/**
 * Compiles `source` (the content of `file`) for `target`; `undefined` when the bundler should use
 * the file as it is. Throws a `CompileError` (file, line, what to do) for misplaced directives,
 * and for any workflow or step reaching a client bundle.
 */
export async function compileForBundler(
  file: string,
  source: string,
  target: BundlerTarget,
): Promise<BundlerModule | undefined> {
  if (!SOURCE_FILE.test(file) || isOwnFile(file) || !mayContainDirectives(source)) return undefined;
  if (target === "client") {
    const result = await compile(source, { filename: file, mode: "client" });
    const found = [...result.workflows, ...result.steps];
    if (found.length === 0) return undefined;
    const names = found
      .map((fn) => `${fn.name}()`)
      .sort()
      .join(", ");
    throw new CompileError(
      { file, ...firstDirective(source) },
      `This file defines ${names} with "use workflow" / "use step", and it is part of a browser (or edge) bundle: something a client component ("use client") or the edge runtime imports leads to it. Workflows and steps run only on the Node.js server.`,
      'Import the file only from server code (a route handler, a server action in a "use server" file, a server component, instrumentation.ts), and call start() there; a client component calls a server action or fetches a route instead.',
    );
  }
  const result = await compile(source, { filename: file, mode: "host", sandboxBundle: PLACEHOLDER });
  // Only mentions (a directive in a string, a `serialize` that is not the pair): the bundler's own compile.
  if (!result.changed) return undefined;
  let code = result.code;
  const warnings = [...result.warnings];
  const dependencies: string[] = [];
  if (result.workflows.length > 0) {
    const bundle = await ensureSandboxBundle(file);
    warnings.push(...bundle.warnings);
    dependencies.push(...bundle.inputs.filter((input) => input !== file));
    const [text, map] = await Promise.all([readFile(bundle.file, "utf8"), readFile(bundle.mapFile, "utf8")]);
    if (!FILE_REGISTRATION.test(code)) {
      throw new Error(`Stepwise internal error: the host output of ${file} has no bundle registration.`);
    }
    code = code.replace(
      FILE_REGISTRATION,
      () =>
        `registerWorkflowBundleInline(${JSON.stringify(text)}, ${JSON.stringify(map)}, ${JSON.stringify(bundle.file)}, `,
    );
  }
  return { code, map: result.map, warnings, dependencies };
}
