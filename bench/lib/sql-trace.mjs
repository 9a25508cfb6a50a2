// Counts and times the SQL a Stepwise World issues, by statement text, while a scenario runs: the
// local World's better-sqlite3 statements (run/get/all, synchronous, so the time is the SQLite
// work itself) or the postgres World's node-postgres queries (count, and time until the reply).
// Used to explain, per step, where the time the profile calls "native" or "idle" goes.
import Database from "better-sqlite3";
import pg from "pg";

export function traceSql() {
  const stats = new Map();
  const record = (text, ms) => {
    const key = String(text).replace(/\s+/g, " ").trim().slice(0, 90);
    const entry = stats.get(key) ?? { calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += ms;
    stats.set(key, entry);
  };
  const restores = [];
  const probe = new Database(":memory:");
  const statementProto = Object.getPrototypeOf(probe.prepare("SELECT 1"));
  probe.close();
  for (const method of ["run", "get", "all"]) {
    const original = statementProto[method];
    statementProto[method] = function (...args) {
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        record(this.source, performance.now() - t0);
      }
    };
    restores.push(() => {
      statementProto[method] = original;
    });
  }
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    const text = typeof config === "string" ? config : (config?.name ?? config?.text);
    const t0 = performance.now();
    const callback = rest.at(-1);
    if (typeof callback === "function") {
      // pg.Pool passes a callback: time until it is called (the reply).
      rest[rest.length - 1] = (...args) => {
        record(text, performance.now() - t0);
        return callback(...args);
      };
      return query.call(this, config, ...rest);
    }
    const result = query.call(this, config, ...rest);
    if (result && typeof result.then === "function") {
      result.then(
        () => record(text, performance.now() - t0),
        () => record(text, performance.now() - t0),
      );
    } else record(text, 0);
    return result;
  };
  restores.push(() => {
    pg.Client.prototype.query = query;
  });
  return {
    /** Stops tracing; statements by total time, with calls and time per `steps`. */
    stop(steps) {
      for (const restore of restores) restore();
      return [...stats]
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([sql, { calls, ms }]) => ({
          sql,
          callsPerStep: calls / steps,
          usPerStep: (ms * 1000) / steps,
        }));
    },
  };
}
