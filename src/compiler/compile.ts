/**
 * `compile()`: one user file to runnable JavaScript for one mode. The directive transform edits
 * the original text (see `transform.ts`), then esbuild strips the TypeScript, with the project's
 * tsconfig.json; esbuild reads the transform's inline source map, so the map it returns leads
 * straight back to the user's file.
 * A file without directives comes out type-stripped and otherwise as it was.
 */
import { basename, dirname } from "node:path";
import { build, type Loader, type Message } from "esbuild";
import { CompileError } from "./errors.ts";
import { langOf } from "./parse.ts";
import { codeFrame, LineIndex } from "./positions.ts";
import { findTsconfig } from "./project.ts";
import { type TransformOptions, type TransformResult, transformDirectives } from "./transform.ts";

export interface SourceMapJson {
  version: number;
  sources: string[];
  sourcesContent?: Array<string | null>;
  mappings: string;
  names: string[];
  file?: string;
  sourceRoot?: string;
}

export interface CompileOptions extends TransformOptions {
  /** Where the output will live (the map's sources are relative to it); by default beside the source. */
  outFile?: string;
}

export interface CompileResult extends Omit<TransformResult, "code" | "map"> {
  code: string;
  map: SourceMapJson;
}

/** esbuild's loader for a file of the given language. */
export function loaderFor(filename: string): Loader {
  return langOf(filename);
}

/** Turns an esbuild error into a `CompileError` at the user's position. */
export function fromEsbuildMessage(message: Message, filename: string, source: string): CompileError {
  const location = message.location;
  const line = location?.line ?? 1;
  const column = (location?.column ?? 0) + 1;
  const lines = new LineIndex(source);
  return new CompileError(
    { file: filename, line, column },
    `Syntax error: ${message.text.replace(/\.$/, "")}.`,
    undefined,
    codeFrame(lines, { line, column }),
  );
}

/** Appends `map` as an inline `sourceMappingURL` comment. */
export function withInlineMap(code: string, map: object): string {
  const data = Buffer.from(JSON.stringify(map)).toString("base64");
  return `${code}${code.endsWith("\n") ? "" : "\n"}//# sourceMappingURL=data:application/json;charset=utf-8;base64,${data}\n`;
}

/**
 * Strips the types of `code` (the transform's output, carrying an inline map) as esbuild does for
 * the file `filename`: through the build API, so the project's tsconfig.json applies
 * (`experimentalDecorators`, `useDefineForClassFields`, `verbatimModuleSyntax`, ...). Imports are
 * left as they are (no bundling).
 */
async function stripTypes(
  code: string,
  filename: string,
  outFile: string,
): Promise<{ code: string; map: string }> {
  const tsconfig = findTsconfig(filename);
  const result = await build({
    entryPoints: [filename],
    ...(tsconfig === undefined ? {} : { tsconfig }),
    bundle: false,
    write: false,
    allowOverwrite: true,
    outfile: outFile,
    sourcemap: "external",
    sourcesContent: true,
    target: "node20",
    logLevel: "silent",
    plugins: [
      {
        name: "stepwise-source",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) =>
            args.kind === "entry-point" ? { path: filename } : undefined,
          );
          b.onLoad({ filter: /.*/ }, () => ({
            contents: code,
            loader: loaderFor(filename),
            resolveDir: dirname(filename),
          }));
        },
      },
    ],
  });
  const files = result.outputFiles ?? [];
  const js = files.find((f) => !f.path.endsWith(".map"));
  const map = files.find((f) => f.path.endsWith(".map"));
  if (js === undefined || map === undefined) throw new Error(`Compiling ${filename} produced no output.`);
  return { code: js.text.replace(/\n?\/\/# sourceMappingURL=.*\s*$/, "\n"), map: map.text };
}

export async function compile(source: string, options: CompileOptions): Promise<CompileResult> {
  const transformed = transformDirectives(source, options);
  const input = transformed.changed
    ? withInlineMap(transformed.code, { ...transformed.map, sources: [basename(options.filename)] })
    : source;
  const outFile = options.outFile ?? options.filename.replace(/\.[cm]?[jt]sx?$/, ".js");
  let result: { code: string; map: string };
  try {
    result = await stripTypes(input, options.filename, outFile);
  } catch (error) {
    const first = (error as { errors?: Message[] }).errors?.[0];
    if (first !== undefined) throw fromEsbuildMessage(first, options.filename, source);
    throw error;
  }
  const map = JSON.parse(result.map) as SourceMapJson;
  const { code: _code, map: _map, ...rest } = transformed;
  return { ...rest, code: result.code, map };
}
