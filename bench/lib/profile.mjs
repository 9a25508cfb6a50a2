// CPU profiles for the "where does the time go" notes: V8's sampling profiler (the one behind
// `node --cpu-prof`) started around one scenario through node:inspector, written as a
// .cpuprofile file (open it in Chrome DevTools), and summarised: idle vs busy, GC, self time by
// layer (Stepwise's own directories, the database driver, Node internals) and the top functions.
// Also: CPU seconds used by the PostgreSQL server processes (from /proc), to see the machine's
// two cores split between Node and the database.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

/** Runs `fn` under the CPU profiler (100 µs sampling) and writes the profile to `file`. */
export async function withCpuProfile(file, fn) {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  let result;
  try {
    result = await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
  return result;
}

const LAYERS = [
  [/\/dist\/worlds\/local\//, "Stepwise local World (JS)"],
  [/\/dist\/worlds\/postgres\//, "Stepwise postgres World (JS)"],
  [/\/dist\/runtime\/(sandbox|machine|replay-plan)/, "Stepwise sandbox + run machine"],
  [/\/dist\/runtime\//, "Stepwise runtime (driver, worker, executor)"],
  [/\/dist\/serde\//, "Stepwise serde (codec, payload envelope)"],
  [/\/dist\/world\//, "Stepwise shared World code (checks, projection)"],
  [/\/dist\//, "Stepwise other"],
  [/bench-workflows\.js|^$|evalmachine/, "workflow code in the sandbox / anonymous"],
  [/node_modules\/better-sqlite3\//, "better-sqlite3 (JS wrapper)"],
  [/node_modules\/pg[-/]|node_modules\/pg-protocol\//, "node-postgres (pg, pg-protocol)"],
  [/node_modules\/devalue\//, "devalue"],
  [/node_modules\/ulid\//, "ulid"],
  [/node_modules\//, "other packages"],
  [/^node:|internal\//, "Node.js internals (net, streams, timers, promises)"],
  [/bench\//, "benchmark harness"],
];

function layerOf(node) {
  const { functionName, url } = node.callFrame;
  if (functionName === "(idle)") return "(idle: waiting for I/O -- disk, database, timers)";
  if (functionName === "(garbage collector)") return "(garbage collector)";
  if (functionName === "(program)") return "(program: V8/native outside JS)";
  if (url === "" && functionName !== "" && !functionName.startsWith("("))
    return "native functions (SQLite calls, crypto, ...)";
  for (const [pattern, name] of LAYERS) if (pattern.test(url)) return name;
  return url;
}

/**
 * Self time by layer and by function, in ms and % of the profile's wall time -- or only of the
 * samples within `window` ({ fromUs, toUs } on the monotonic clock: process.hrtime in µs, which is
 * the clock V8's profile timestamps use, in every process of the machine).
 */
export function summariseProfile(file, { top = 12, window } = {}) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = window ? window.toUs - window.fromUs : profile.endTime - profile.startTime;
  const layers = new Map();
  const functions = new Map();
  for (const [id, us] of self) {
    const node = byId.get(id);
    const layer = layerOf(node);
    layers.set(layer, (layers.get(layer) ?? 0) + us);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(dist|node_modules|bench)\//, "$1/")}:${lineNumber + 1}` : "";
    const name = `${functionName || "(anonymous)"} ${where}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / totalUs }));
  return { wallMs: totalUs / 1000, layers: rows(layers), functions: rows(functions).slice(0, top) };
}

/** Total CPU seconds (user + system) consumed so far by processes named `postgres`. */
export function postgresCpuSeconds() {
  let ticks = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (!stat.includes("(postgres)")) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / 100;
}

/** Now on the monotonic clock, in µs (see summariseProfile). */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** CPU seconds (user + system) consumed so far by process `pid` and its threads. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
