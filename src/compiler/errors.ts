/**
 * What the compiler reports: `CompileError` for input it refuses (a misused directive, a Node
 * built-in in workflow code, a syntax error), always with the user's file, line and column, the
 * reason and the fix; `CompileWarning` for input it accepts but that probably does not do what was
 * meant. The stack of a `CompileError` is replaced by one frame at the user's position, so Node
 * prints the user's file instead of compiler internals.
 */
import { registerErrorCode, StepwiseError } from "../errors/base.ts";
import { codeFrame, displayPath, type LineIndex, type Position } from "./positions.ts";

export interface SourceLocation extends Position {
  file: string;
}

export class CompileError extends StepwiseError {
  static override readonly code: string = "COMPILE";
  readonly file: string;
  readonly line: number;
  readonly column: number;
  declare readonly reason: string;
  declare readonly fix: string | undefined;

  constructor(location: SourceLocation, reason: string, fix?: string, frame?: string) {
    const head = `${displayPath(location.file)}:${location.line}:${location.column}: ${reason}`;
    super(
      [head, fix === undefined ? undefined : `Fix: ${fix}`, frame === undefined ? undefined : `\n${frame}`]
        .filter((x) => x !== undefined)
        .join("\n"),
    );
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
    Object.defineProperty(this, "reason", { value: reason, enumerable: false });
    Object.defineProperty(this, "fix", { value: fix, enumerable: false });
    this.stack = `${this.name}: ${this.message}\n    at ${location.file}:${location.line}:${location.column}`;
  }
}
registerErrorCode(CompileError.code, StepwiseError.code);

export class CompileWarning {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly message: string,
  ) {}

  toString(): string {
    return `Stepwise warning: ${displayPath(this.file)}:${this.line}:${this.column}: ${this.message}`;
  }
}

/** Builds errors and warnings positioned in one source file. */
export class Reporter {
  readonly warnings: CompileWarning[] = [];

  constructor(
    readonly file: string,
    readonly lines: LineIndex,
  ) {}

  error(offset: number, reason: string, fix?: string): CompileError {
    const at = this.lines.position(offset);
    return new CompileError({ file: this.file, ...at }, reason, fix, codeFrame(this.lines, at));
  }

  warn(offset: number, message: string): void {
    const at = this.lines.position(offset);
    this.warnings.push(new CompileWarning(this.file, at.line, at.column, message));
  }
}
