// Engine drivers run in child processes (one per engine and World), so engines never share an
// event loop, a heap or global state. The orchestrator forks a driver and calls its scenarios
// over Node's IPC channel: `driver.call(name, params)` -> the scenario's result. A driver that
// cannot even open its engine answers `ready` with the error, which the orchestrator reports.
import { fork } from "node:child_process";

/** Orchestrator side: forks `file` and waits for it to say it is ready (or why it is not). */
export async function spawnDriver(
  file,
  { args = [], env = {}, execArgv = [], cwd, label, readyTimeoutMs = 120_000 } = {},
) {
  const child = fork(file, args, {
    cwd,
    env: { ...process.env, ...env },
    execArgv: ["--expose-gc", ...execArgv],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const name = label ?? file;
  const output = [];
  const keep = (chunk) => {
    output.push(chunk.toString());
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  if (process.env.BENCH_VERBOSE) {
    child.stdout.pipe(process.stderr);
    child.stderr.pipe(process.stderr);
  }
  return attachDriver(child, {
    name,
    output,
    readyTimeoutMs,
    send: (message) => child.send(message),
    subscribe: (receive) => child.on("message", receive),
  });
}

/**
 * Orchestrator side, over any channel: `send(message)` writes one message to the driver process
 * `child`, and `subscribe(receive)` hands each message it writes to `receive`. Waits for its
 * `ready`, and returns `{ name, pid, info, error, output(), call(method, params, timeoutMs),
 * close(graceMs) }`. `output` is the array the caller keeps the driver's last output in.
 */
export async function attachDriver(child, { name, output, send, subscribe, readyTimeoutMs = 120_000 }) {
  const pending = new Map();
  let nextId = 1;
  let exited;
  let readyResolve;
  const ready = new Promise((resolve) => {
    readyResolve = resolve;
  });
  subscribe((message) => {
    if (message.type === "ready") return readyResolve(message);
    const call = pending.get(message.id);
    if (!call) return;
    pending.delete(message.id);
    clearTimeout(call.timer);
    if (message.error) call.reject(Object.assign(new Error(message.error), { driverStack: message.stack }));
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
    /** Calls scenario `method`; rejects after `timeoutMs` (the driver is then killed). */
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
        send({ id, method, params });
      });
    },
    /** Asks the driver to shut down; kills it if it has not exited after `graceMs`. */
    async close(graceMs = 15_000) {
      if (exited) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      send({ id: 0, method: "__exit" });
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await gone;
      clearTimeout(killer);
    },
  };
  if (hello.error) await driver.close(2_000);
  return driver;
}

/**
 * Driver side: opens the engine with `open()` (which returns `{ info, scenarios, close }`), says
 * ready, and serves calls until told to exit.
 */
export async function serveDriver(open) {
  let engine;
  try {
    engine = await open();
  } catch (error) {
    process.send({ type: "ready", error: `${error?.stack ?? error}` });
    return;
  }
  process.send({ type: "ready", info: engine.info ?? {} });
  process.on("message", async ({ id, method, params }) => {
    if (method === "__exit") {
      try {
        await Promise.race([engine.close?.(), new Promise((r) => setTimeout(r, 10_000))]);
      } finally {
        process.exit(0);
      }
    }
    try {
      const fn = engine.scenarios[method];
      if (!fn) throw new Error(`unknown scenario ${method}`);
      const result = await fn(params);
      process.send({ id, result });
    } catch (error) {
      process.send({ id, error: `${error?.message ?? error}`, stack: error?.stack });
    }
  });
}
