// Drivers that are not Node processes (the Python engines, bench/engines/python.py) speak JSON lines
// on stdin/stdout instead of Node's IPC channel: the driver writes {"type": "ready", "info"} (or
// {"type": "ready", "error"}) first, then answers each {"id", "method", "params"} line with
// {"id", "result"} or {"id", "error"}; {"method": "__exit"} asks it to stop. Its stderr is kept
// (the last 200 chunks) for error messages. The returned object has the same shape as
// spawnDriver's (lib/ipc.mjs): { info, error, pid, call(method, params, timeoutMs), close() }.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

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
  const pending = new Map();
  let nextId = 1;
  let exited;
  let readyResolve;
  const ready = new Promise((resolve) => {
    readyResolve = resolve;
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      output.push(`${line}\n`);
      return;
    }
    if (message.type === "ready") return readyResolve(message);
    const call = pending.get(message.id);
    if (!call) return;
    pending.delete(message.id);
    clearTimeout(call.timer);
    if (message.error) call.reject(new Error(message.error));
    else call.resolve(message.result);
  });
  const onGone = (why) => {
    exited = why;
    const error = new Error(`driver ${name} ${why}; last output:\n${output.join("").slice(-2000)}`);
    readyResolve({ type: "ready", error: error.message });
    for (const call of pending.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    pending.clear();
  };
  child.on("error", (error) => onGone(`could not start (${error.message})`));
  child.on("exit", (code, signal) => onGone(`exited (${signal ?? code})`));
  const timer = setTimeout(
    () => readyResolve({ type: "ready", error: `no answer in ${readyTimeoutMs} ms` }),
    readyTimeoutMs,
  );
  const hello = await ready;
  clearTimeout(timer);
  const driver = {
    name,
    pid: child.pid,
    info: hello.info ?? {},
    error: hello.error,
    output: () => output.join(""),
    /** Calls `method`; rejects after `timeoutMs` (the driver is then killed). */
    call(method, params = {}, timeoutMs = 600_000) {
      if (exited) return Promise.reject(new Error(`driver ${name} ${exited}`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}.${method} did not finish within ${Math.round(timeoutMs / 1000)} s`));
          child.kill("SIGKILL");
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
      });
    },
    /** Asks the driver to stop; kills it if it has not exited after `graceMs`. */
    async close(graceMs = 15_000) {
      if (exited) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.write(`${JSON.stringify({ method: "__exit" })}\n`);
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await gone;
      clearTimeout(killer);
    },
  };
  if (hello.error) await driver.close(2_000);
  return driver;
}
