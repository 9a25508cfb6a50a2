/**
 * Progress for commands that take more than a moment (`start --wait`, `build`), always on stderr,
 * so stdout carries only results a script can read. On a terminal it is one live line: a spinner,
 * the current text and the time so far, redrawn in place and erased at the end. Elsewhere (a pipe,
 * a log file, CI) each new text is printed once as a plain line, and nothing is redrawn.
 */

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 100;

export interface Progress {
  /** Shows `text` as what is happening now (on a non-terminal only when it changed). */
  update(text: string): void;
  /** Ends the progress: the live line is erased; `final`, if given, is printed as a plain line. */
  stop(final?: string): void;
}

/** Where progress goes: stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

/** Starts showing `text` on `stream` (default stderr); see the file header for how. */
export function startProgress(text: string, stream: ProgressStream = process.stderr): Progress {
  const began = Date.now();
  let current = text;
  if (stream.isTTY !== true) {
    stream.write(`${current}\n`);
    return {
      update(next) {
        if (next === current) return;
        current = next;
        stream.write(`${current}\n`);
      },
      stop(final) {
        if (final !== undefined) stream.write(`${final}\n`);
      },
    };
  }
  let frame = 0;
  const draw = (): void => {
    const seconds = Math.floor((Date.now() - began) / 1000);
    const line = `${FRAMES[frame % FRAMES.length]} ${current}${seconds > 0 ? ` (${seconds}s)` : ""}`;
    const width = Math.max(10, (stream.columns ?? 80) - 1);
    stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, FRAME_MS);
  timer.unref();
  return {
    update(next) {
      current = next;
      draw();
    },
    stop(final) {
      clearInterval(timer);
      stream.write("\r\x1b[2K");
      if (final !== undefined) stream.write(`${final}\n`);
    },
  };
}
