/**
 * Directives only work in ES modules (the compiled code imports its runtime helpers and registers
 * at the top of the module), so a CommonJS file that carries `"use workflow"` or `"use step"` is
 * refused with its file and line, in the project or in an npm package, by the register hooks, the
 * sandbox bundle and the ahead-of-time build alike, instead of running as plain code. Files that
 * only mention a directive in a string or a comment are not refused.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { CompileError } from "./errors.ts";
import { packageOf } from "./packages.ts";
import { codeFrame, LineIndex } from "./positions.ts";
import { transformDirectives } from "./transform.ts";

/** A directive where a prologue can hold one: at the start of a line, or right after `{` or `;`. */
const DIRECTIVE_STATEMENT = /(?:^|[{;])[ \t]*(["'])use (workflow|step)\1/m;

/** Whether Node loads `file` as CommonJS: `.cjs`, or `.js` without `"type": "module"` in the nearest package.json. */
export function isCommonJs(file: string): boolean {
  const ext = extname(file);
  if (ext === ".cjs" || ext === ".cts") return true;
  if (ext !== ".js") return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown }).type !== "module";
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/**
 * The error for a CommonJS file that uses a directive, or `undefined` when it has none (a mention
 * in a string is not one). Where the file cannot be parsed as a module, a directive written as
 * a statement of its own still counts.
 */
export function commonJsDirectiveError(file: string, source: string): CompileError | undefined {
  let name: string | undefined;
  let found = false;
  try {
    const result = transformDirectives(source, { filename: file, mode: "host" });
    name = [...result.workflows, ...result.steps][0]?.name;
    found = name !== undefined;
  } catch (error) {
    // A misplaced directive is still a directive; a file that does not parse as a module falls back to the text.
    found = error instanceof CompileError && !error.reason.startsWith("Syntax error");
  }
  const match = DIRECTIVE_STATEMENT.exec(source);
  if (!found && match === null) return undefined;
  const offset = match === null ? 0 : match.index + match[0].indexOf(match[1] ?? '"');
  const lines = new LineIndex(source);
  const at = lines.position(offset);
  const directive = match === null ? "a directive" : `a "use ${match[2]}" directive`;
  const pkg = packageOf(file);
  const fix =
    pkg === undefined
      ? `make it an ES module: rename it to .mjs or .mts, or set "type": "module" in its package.json.`
      : `the package ${pkg.name} must ship its durable code as ES modules ("type": "module" or .mjs files); import its ES module build if it has one, or ask its authors for one.`;
  return new CompileError(
    { file, ...at },
    `This file is CommonJS, but it has ${directive}${name === undefined ? "" : ` (on \`${name}\`)`}, and directives only work in ES modules.`,
    fix,
    codeFrame(lines, at),
  );
}
