/**
 * Captures what a step attempt prints, per attempt, while still printing it (a tee): the console
 * methods (`log`, `info`, `debug`, `warn`, `error`, `trace`) and direct writes to
 * `process.stdout` and `process.stderr` are wrapped once per process, and each call is routed by
 * the async context it runs in — the step context (`step-context.ts`, AsyncLocalStorage) — to the
 * output of the attempt that made it. So concurrent steps (`Promise.all`) each get their own
 * lines, and output outside any step (the worker's own, the workflow's, which the run's machine
 * records itself) is only printed, as before. A console call's own write to the stream is not
 * recorded twice. Recording never throws into the caller: a failure to record only loses the line.
 */
import { formatLogArgs, LogBuffer } from "./log-buffer.ts";
import { type StepOutput, stepContext } from "./step-context.ts";

const LEVELS = ["log", "info", "debug", "warn", "error", "trace"] as const;

let installed = false;
/** Depth of captured console calls in progress: their writes to the streams are theirs. */
let inConsole = 0;

function currentOutput(): { output: StepOutput; at: number } | undefined {
  const context = stepContext.getStore();
  const output = context?.output;
  if (context === undefined || output === undefined) return undefined;
  return { output, at: context.env.clock?.now() ?? Date.now() };
}

function record(level: string, text: string, stream: boolean): void {
  try {
    const current = currentOutput();
    if (current === undefined) return;
    current.output.buffer ??= new LogBuffer();
    if (stream) current.output.buffer.write(level, text, current.at);
    else current.output.buffer.add(level, text, current.at);
  } catch {
    // A line that cannot be recorded is still printed.
  }
}

type Write = (...args: unknown[]) => boolean;

function wrapStream(name: "stdout" | "stderr", stream: NodeJS.WriteStream): void {
  const original = stream.write as unknown as Write;
  const wrapped: Write = function (this: unknown, ...args: unknown[]) {
    if (inConsole === 0 && stepContext.getStore() !== undefined) {
      const [chunk, encoding] = args;
      const text =
        typeof chunk === "string"
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString(
                typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8",
              )
            : String(chunk);
      record(name, text, true);
    }
    return Reflect.apply(original, this, args) as boolean;
  };
  stream.write = wrapped as unknown as typeof stream.write;
}

/** Wraps the console and the standard streams of this process, once. */
export function installConsoleCapture(): void {
  if (installed) return;
  installed = true;
  const target = console as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const level of LEVELS) {
    const original = target[level];
    if (typeof original !== "function") continue;
    target[level] = function (this: unknown, ...args: unknown[]) {
      if (stepContext.getStore() === undefined) return Reflect.apply(original, this, args);
      record(level, formatLogArgs(args), false);
      inConsole += 1;
      try {
        return Reflect.apply(original, this, args);
      } finally {
        inConsole -= 1;
      }
    };
  }
  wrapStream("stdout", process.stdout);
  wrapStream("stderr", process.stderr);
}
