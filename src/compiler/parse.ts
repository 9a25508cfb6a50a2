/**
 * Parsing user files with oxc-parser (TypeScript and JavaScript, ES modules). A syntax error
 * becomes a `CompileError` at the user's file, line and column, with oxc's message; the AST's
 * offsets are UTF-16 indices into the source, which is what the rest of the compiler edits.
 */
import { extname } from "node:path";
import { type Program, parseSync } from "oxc-parser";
import { CompileError } from "./errors.ts";
import { codeFrame, LineIndex } from "./positions.ts";

export type SourceLang = "ts" | "tsx" | "js" | "jsx";

export interface ParsedModule {
  source: string;
  filename: string;
  lang: SourceLang;
  program: Program;
  lines: LineIndex;
}

/** The language of a file, from its extension (`.ts`, `.mts`, `.cts`, `.tsx`, `.js`, `.mjs`, ...). */
export function langOf(filename: string): SourceLang {
  const ext = extname(filename).toLowerCase();
  if (ext === ".ts" || ext === ".mts" || ext === ".cts") return "ts";
  if (ext === ".tsx") return "tsx";
  if (ext === ".jsx") return "jsx";
  return "js";
}

/** Parses `source` as a module of `lang` (by default the language of `filename`'s extension). */
export function parseModule(
  source: string,
  filename: string,
  lang: SourceLang = langOf(filename),
): ParsedModule {
  const result = parseSync(filename, source, { lang, sourceType: "module", preserveParens: false });
  const lines = new LineIndex(source);
  const failure = result.errors.find((error) => error.severity === "Error");
  if (failure !== undefined) {
    const offset = failure.labels[0]?.start ?? 0;
    const at = lines.position(offset);
    throw new CompileError(
      { file: filename, ...at },
      `Syntax error: ${failure.message}.`,
      failure.helpMessage ?? undefined,
      codeFrame(lines, at),
    );
  }
  return { source, filename, lang, program: result.program, lines };
}
