// Drivers that are not Node processes (the Python engines, bench/engines/python.py) speak JSON lines
// on stdin/stdout instead of Node's IPC channel: the driver writes {"type": "ready", "info"} (or
// {"type": "ready", "error"}) first, then answers each {"id", "method", "params"} line with
// {"id", "result"} or {"id", "error"}; {"method": "__exit"} asks it to stop. Its stderr is kept
// (the last 200 chunks) for error messages. The returned object has the same shape as
// spawnDriver's (lib/ipc.mjs), whose attachDriver does the calls: { info, error, pid, call, close }.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { attachDriver } from "./ipc.mjs";

export async function spawnLineDriver(
  command,
  args,
  { env = {}, cwd, label, readyTimeoutMs = 120_000 } = {},
) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const name = label ?? `${command} ${args.join(" ")}`;
  const output = [];
  child.stderr.on("data", (chunk) => {
    output.push(chunk.toString());
    if (output.length > 200) output.splice(0, output.length - 200);
    if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
  });
  const lines = createInterface({ input: child.stdout });
  return attachDriver(child, {
    name,
    output,
    readyTimeoutMs,
    send: (message) => child.stdin.write(`${JSON.stringify(message)}\n`),
    subscribe: (receive) =>
      lines.on("line", (line) => {
        let message;
        try {
          message = JSON.parse(line);
        } catch {
          output.push(`${line}\n`);
          return;
        }
        receive(message);
      }),
  });
}
