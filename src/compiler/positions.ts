/**
 * Offsets to lines and columns, and the code frames shown under compile errors. Offsets are
 * UTF-16 indices into the source string (what oxc-parser's spans and magic-string use); lines are
 * 1-based and columns 1-based, as editors and Node's stack traces show them.
 */
import { isAbsolute, relative } from "node:path";

export interface Position {
  line: number;
  column: number;
}

export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(readonly source: string) {
    for (let i = 0; i < source.length; i++) {
      if (source.charCodeAt(i) === 10) this.#starts.push(i + 1);
    }
  }

  position(offset: number): Position {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (this.#starts[low] ?? 0) + 1 };
  }

  lineText(line: number): string {
    const start = this.#starts[line - 1];
    if (start === undefined) return "";
    const next = this.#starts[line];
    return this.source.slice(start, next === undefined ? undefined : next - 1).replace(/\r$/, "");
  }

  get lineCount(): number {
    return this.#starts.length;
  }
}

/** The two lines before `line`, the line itself and a caret under `column`. */
export function codeFrame(index: LineIndex, at: Position): string {
  const first = Math.max(1, at.line - 2);
  const width = String(at.line).length;
  const rows: string[] = [];
  for (let line = first; line <= at.line; line++) {
    const marker = line === at.line ? ">" : " ";
    rows.push(`${marker} ${String(line).padStart(width)} | ${index.lineText(line)}`);
  }
  const prefix = index
    .lineText(at.line)
    .slice(0, at.column - 1)
    .replace(/[^\t]/g, " ");
  rows.push(`  ${" ".repeat(width)} | ${prefix}^`);
  return rows.join("\n");
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel.split("\\").join("/") : file;
}
