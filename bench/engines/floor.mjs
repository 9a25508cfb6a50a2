// Driver process for the durable-write floor: the raw cost of one committed one-row write on the
// same databases the engines use, so every figure can be read against the limit.
// - SQLite: a fresh file with the local World's pragmas (WAL, synchronous=NORMAL, busy_timeout,
//   temp_store=MEMORY, cache_size=-16000), each write `BEGIN IMMEDIATE; INSERT; COMMIT`.
// - PostgreSQL: one connection to a fresh database (synchronous_commit=on, fsync on), each write
//   one autocommitted prepared `INSERT` (one round trip, one WAL flush), and the WAL bytes each
//   writes; plus the commit rate of
//   8 connections writing at once (the server's own group commit), as a throughput ceiling.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { serveDriver } from "../lib/ipc.mjs";
import { median } from "../lib/stats.mjs";

const payload = Buffer.alloc(64, 7);
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.floor(values.length * p)];

async function sqlite({ writes }) {
  const dir = mkdtempSync(join(tmpdir(), "stepwise-floor-"));
  const db = new Database(join(dir, "floor.db"), { timeout: 10_000 });
  try {
    db.pragma("busy_timeout = 10000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = OFF");
    db.pragma("temp_store = MEMORY");
    db.pragma("cache_size = -16000");
    db.exec("CREATE TABLE floor (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    const insert = db.prepare("INSERT INTO floor (v) VALUES (?)");
    const write = db.transaction(() => insert.run(payload));
    const times = [];
    for (let i = 0; i < writes + 200; i++) {
      const t0 = performance.now();
      write.immediate();
      if (i >= 200) times.push(performance.now() - t0); // the first 200 warm up
    }
    db.pragma("wal_checkpoint(TRUNCATE)");
    for (let i = 0; i < 100; i++) write.immediate();
    const [{ log }] = db.pragma("wal_checkpoint(PASSIVE)");
    return { writes, medianMs: median(times), p99Ms: percentile(times, 0.99), framesPerWrite: log / 100 };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres({ writes, parallelMs = 2_000 }) {
  const url = process.env.BENCH_PG_URL;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("CREATE TABLE IF NOT EXISTS floor (id bigserial PRIMARY KEY, v bytea NOT NULL)");
    const times = [];
    const lsn = async () => (await client.query("SELECT pg_current_wal_insert_lsn() AS l")).rows[0].l;
    let walFrom;
    for (let i = 0; i < writes + 100; i++) {
      if (i === 100) walFrom = await lsn();
      const t0 = performance.now();
      await client.query({
        name: "floor-insert",
        text: "INSERT INTO floor (v) VALUES ($1)",
        values: [payload],
      });
      if (i >= 100) times.push(performance.now() - t0);
    }
    // WAL bytes per write (the whole server's, and nothing else writes meanwhile).
    const walBytes = (await client.query("SELECT pg_wal_lsn_diff($1, $2) AS d", [await lsn(), walFrom]))
      .rows[0].d;
    // 8 connections committing as fast as they can: the server's commit ceiling on this machine.
    const clients = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        return c;
      }),
    );
    let commits = 0;
    const end = performance.now() + parallelMs;
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < end) {
          await c.query({
            name: "floor-insert",
            text: "INSERT INTO floor (v) VALUES ($1)",
            values: [payload],
          });
          commits++;
        }
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    return {
      writes,
      medianMs: median(times),
      p99Ms: percentile(times, 0.99),
      parallelCommitsPerSecond: commits / (parallelMs / 1000),
      walBytesPerWrite: Number(walBytes) / writes,
    };
  } finally {
    await client.end();
  }
}

serveDriver(async () => ({ info: { engine: "floor" }, scenarios: { sqlite, postgres } }));
