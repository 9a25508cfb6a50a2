/**
 * Moving a project from the embedded SQLite World to PostgreSQL with runs in flight, in real
 * processes (`npx stepwise export` / `import`, issue 13 item 6). On a local World, a dedicated
 * worker brings 100 runs to: 30 completed, 35 asleep (20 s), 34 waiting on a hook with a token of
 * their own, and one that wrote a stream chunk and is inside a step that waits for a file — then
 * the worker is SIGKILLed (asserted) while that step runs. Every process has the same encryption
 * key: payloads stay encrypted through the file. The runs are exported to a file and
 * imported into a PostgreSQL database; a worker on PostgreSQL takes over, the hooks are resumed
 * by their original tokens, and every run completes: the sleepers no earlier than their recorded
 * wake-up time, the same run ids, every step executed exactly once by the journal — except the
 * step in flight at the kill, which ran twice (attempt 1 killed, attempt 2 finished), and only
 * it. Importing the file again changes nothing; `replay --check --from` replays it cleanly.
 *
 * Then bad input, each refused with a message saying what to do, the destination (a SQLite file)
 * unchanged byte for byte in its rows: a truncated file, a flipped byte, a run id held there by
 * another run, a bundle whose code does not match its hash, a file from a newer format version.
 * (These tests load `dist/`: run `npm run build`.)
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_PLACE, bundleScope } from "../../src/runtime/bundles.ts";
import { createKeyring, parseEncryptionKey } from "../../src/serde/keys.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { JOURNAL_FILES, StepJournal } from "../helpers/chaos/step-journal.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import {
  makeProject,
  type NodeResult,
  type Project,
  REGISTER,
  runNode,
  spawnNode,
} from "../helpers/project.ts";

const COMPLETED = 30;
const SLEEPING = 35;
const HOOKED = 34;
const TOTAL = COMPLETED + SLEEPING + HOOKED + 1;
const SLEEP_MS = 20_000;

const FILES: Record<string, string> = {
  ...JOURNAL_FILES,
  "workflows/move.ts": `
import { existsSync } from "node:fs";
import { createHook, getWritable, sleep } from "stepwise-workflows";
import { journaled } from "../journal.ts";

async function work(note: string): Promise<string> {
  "use step";
  return journaled(0, () => \`done:\${note}\`);
}

async function emit(note: string): Promise<void> {
  "use step";
  await journaled(0, async () => {
    const writer = getWritable<string>().getWriter();
    await writer.write(\`chunk:\${note}\`);
    writer.releaseLock();
  });
}

/** Waits for the file "release" (created by the test after the kill), so the kill lands in it. */
async function held(note: string): Promise<string> {
  "use step";
  return journaled(0, async () => {
    while (!existsSync("release")) await new Promise((resolve) => setTimeout(resolve, 50));
    return \`held:\${note}\`;
  });
}

export async function move(input: { id: string; kind: "done" | "sleep" | "hook" | "held" }) {
  "use workflow";
  const a = await work(\`\${input.id}-a\`);
  let note = "";
  if (input.kind === "sleep") await sleep(${SLEEP_MS});
  if (input.kind === "hook") note = (await createHook<{ note: string }>({ token: \`tok-\${input.id}\` })).note;
  if (input.kind === "held") {
    await emit(input.id);
    note = await held(input.id);
  }
  const b = await work(\`\${input.id}-b\`);
  return { a, b, note };
}
`,
  // Starts the runs (no worker here: the dedicated one drives them); prints { id: runId }.
  "start.ts": `
import { shutdown, start } from "stepwise-workflows/api";
import { move } from "./workflows/move.ts";

const plan = JSON.parse(process.argv[2]);
const ids = {};
for (const [id, kind] of plan) ids[id] = (await start(move, [{ id, kind }])).runId;
await shutdown();
console.log(JSON.stringify(ids));
`,
  // Resumes hooks by token (no worker here).
  "resume.ts": `
import { resumeHook, shutdown } from "stepwise-workflows/api";
for (const token of JSON.parse(process.argv[2])) await resumeHook(token, { note: \`resumed:\${token}\` });
await shutdown();
`,
  // Starts a run under a chosen id (another run than the file's), for the conflict case.
  "start-id.ts": `
import { shutdown, start } from "stepwise-workflows/api";
import { move } from "./workflows/move.ts";
await start(move, [{ id: "other", kind: "done" }], { id: process.argv[2] });
await shutdown();
`,
};

let project: Project;
let server: PostgresServer | undefined;
let admin: pg.Client | undefined;
let pgUrl = "";
/** Every process has the key: the runs are encrypted, and stay so in the file and in PostgreSQL. */
const KEY = randomBytes(32).toString("base64");
const local = (dir: string) => ({
  STEPWISE_WORLD: "local",
  STEPWISE_DATA_DIR: join(project.dir, dir),
  STEPWISE_ENCRYPTION_KEY: KEY,
});
const postgres = () => ({
  STEPWISE_WORLD: "postgres",
  STEPWISE_POSTGRES_URL: pgUrl,
  STEPWISE_POSTGRES_SCHEMA: "moved",
  STEPWISE_ENCRYPTION_KEY: KEY,
});
const stepwise = (env: Record<string, string>, ...args: string[]): Promise<NodeResult> =>
  runNode([join(project.dir, "node_modules/.bin/stepwise"), ...args], project.dir, env);
const script = (env: Record<string, string>, ...args: string[]): Promise<NodeResult> =>
  runNode(["--import", REGISTER, ...args], project.dir, { ...env, STEPWISE_WORKER: "0" });
const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  ok: (value: T) => boolean,
  ms = 90_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await sleepMs(200);
  }
}

/** How many step executions of the run the journal shows now. */
function startedSteps(journal: StepJournal, runId: string): number {
  journal.refresh();
  return journal.started.filter((e) => e.runId === runId).length;
}

/** Reads the source SQLite file (read-only). */
function sqlite<T>(dir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(project.dir, dir, "stepwise.db"), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Every row of a local World's file, digested (what "unchanged" means for bad-input cases). */
function digest(dir: string): string {
  return sqlite(dir, (db) => {
    const hash = createHash("sha256");
    const tables = [
      "runs",
      "events",
      "steps",
      "hooks",
      "waits",
      "queue",
      "inbox",
      "streams",
      "stream_chunks",
      "bundles",
    ];
    for (const table of tables) {
      const rows = db
        .prepare(`SELECT * FROM ${table}`)
        .all()
        .map((row) =>
          JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString("base64") : v)),
        )
        .sort();
      hash.update(`${table}:${rows.join("\n")}\n`);
    }
    return hash.digest("hex");
  });
}

beforeAll(async () => {
  project = makeProject(FILES);
  server = await startPostgres();
  pgUrl = await server.createDatabase();
  admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
}, 120_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
  project?.remove();
});

describe("moving runs in flight from SQLite to PostgreSQL", () => {
  let ids: Record<string, string> = {};
  const file = () => join(project.dir, "runs.ndjson");

  it("export from a killed worker's SQLite World, import into PostgreSQL, every run completes once", async () => {
    const source = local(".source");
    const worker = spawnNode(
      [join(project.dir, "node_modules/.bin/stepwise"), "worker", "--quiet"],
      project.dir,
      source,
    );
    const plan: [string, string][] = [];
    for (let i = 0; i < COMPLETED; i++) plan.push([`c${i}`, "done"]);
    for (let i = 0; i < SLEEPING; i++) plan.push([`s${i}`, "sleep"]);
    for (let i = 0; i < HOOKED; i++) plan.push([`h${i}`, "hook"]);
    plan.push(["held", "held"]);
    const started = await script(source, "start.ts", JSON.stringify(plan));
    expect(started.code, started.stderr).toBe(0);
    ids = JSON.parse(started.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, string>;
    expect(Object.keys(ids)).toHaveLength(TOTAL);
    const heldRun = ids.held as string;

    // Every run where the test wants it: completed, asleep, waiting on its hook, inside `held`.
    const journal = new StepJournal(project.dir);
    await until(
      "the runs to settle in the source",
      () =>
        sqlite(".source", (db) => ({
          completed: (
            db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'completed'").get() as { n: number }
          ).n,
          sleeping: (
            db.prepare("SELECT count(*) AS n FROM waits WHERE status = 'waiting'").get() as { n: number }
          ).n,
          hooks: (
            db.prepare("SELECT count(*) AS n FROM hooks WHERE status = 'active'").get() as { n: number }
          ).n,
          held: startedSteps(journal, heldRun),
          unleased: (
            db
              .prepare("SELECT count(*) AS n FROM runs WHERE lease_owner IS NULL AND status = 'running'")
              .get() as { n: number }
          ).n,
        })),
      (s) =>
        s.completed === COMPLETED &&
        s.sleeping === SLEEPING &&
        s.hooks === HOOKED &&
        s.held === 3 &&
        s.unleased === SLEEPING + HOOKED,
    );
    worker.child.kill("SIGKILL");
    await worker.exited;
    expect(worker.child.signalCode).toBe("SIGKILL");
    journal.refresh();
    const inFlight = journal.started.filter((e) => e.runId === heldRun).at(-1);
    expect(inFlight?.attempt).toBe(1);
    expect(journal.finished.some((e) => e.runId === heldRun && e.stepId === inFlight?.stepId)).toBe(false);

    const exported = await stepwise(source, "export", "--out", file());
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`exported ${TOTAL} runs`);
    expect(existsSync(`${file()}.partial`)).toBe(false);

    const imported = await stepwise(postgres(), "import", file());
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(`imported ${TOTAL} run(s); 0 were here already`);

    writeFileSync(join(project.dir, "release"), "");
    const pgWorker = spawnNode(
      [join(project.dir, "node_modules/.bin/stepwise"), "worker", "--quiet"],
      project.dir,
      postgres(),
    );
    try {
      const tokens = Array.from({ length: HOOKED }, (_, i) => `tok-h${i}`);
      const resumed = await script(postgres(), "resume.ts", JSON.stringify(tokens));
      expect(resumed.code, resumed.stderr).toBe(0);
      const db = admin as pg.Client;
      await until(
        "every run to complete on PostgreSQL",
        async () =>
          (await db.query("SELECT count(*)::int AS n FROM moved.runs WHERE status = 'completed'")).rows[0]
            .n as number,
        (n) => n === TOTAL,
      );
      // The same runs, by id; nothing else was made.
      const stored = (await db.query("SELECT run_id FROM moved.runs ORDER BY run_id")).rows.map(
        (r) => r.run_id,
      );
      expect(stored).toEqual(Object.values(ids).sort());
      // Sleepers woke no earlier than the time recorded in the source.
      const early = await db.query(
        `SELECT w.run_id FROM moved.waits w JOIN moved.events e ON e.run_id = w.run_id AND e.type = 'wait_completed'
         WHERE e.created_at < w.resume_at`,
      );
      expect(early.rows).toEqual([]);
      expect(
        (await db.query("SELECT count(*)::int AS n FROM moved.waits WHERE status = 'completed'")).rows[0].n,
      ).toBe(SLEEPING);
      // Encrypted in the source, copied as bytes: still encrypted (0x03) here, and readable.
      const formats = await db.query(
        "SELECT DISTINCT get_byte(payload, 0) AS f FROM moved.events WHERE payload IS NOT NULL",
      );
      expect(formats.rows).toEqual([{ f: 3 }]);
      // The stream chunk written in the source is there.
      const chunks = await db.query("SELECT count(*)::int AS n FROM moved.stream_chunks WHERE run_id = $1", [
        heldRun,
      ]);
      expect(chunks.rows[0].n).toBe(1);
    } finally {
      pgWorker.child.kill("SIGTERM");
      await pgWorker.exited;
    }

    // The journal: each step executed once; the one in flight at the kill twice (attempt 1, 2).
    journal.refresh();
    const byStep = new Map<string, { started: number[]; finished: number }>();
    for (const e of journal.started) {
      const entry = byStep.get(`${e.runId} ${e.stepId}`) ?? { started: [], finished: 0 };
      entry.started.push(e.attempt);
      byStep.set(`${e.runId} ${e.stepId}`, entry);
    }
    for (const e of journal.finished)
      (byStep.get(`${e.runId} ${e.stepId}`) as { finished: number }).finished += 1;
    expect(byStep.size).toBe(2 * TOTAL + 2);
    for (const [key, entry] of byStep) {
      const expected = key === `${heldRun} ${inFlight?.stepId}` ? [1, 2] : [1];
      expect({ key, ...entry }).toEqual({ key, started: expected, finished: 1 });
    }
  }, 240_000);

  it("importing the file again changes nothing", async () => {
    const db = admin as pg.Client;
    const count = async () =>
      (
        await db.query(
          "SELECT (SELECT count(*) FROM moved.events)::int AS e, (SELECT count(*) FROM moved.queue)::int AS q, (SELECT count(*) FROM moved.runs)::int AS r",
        )
      ).rows[0];
    const before = await count();
    const again = await stepwise(postgres(), "import", file());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`imported 0 run(s); ${TOTAL} were here already`);
    expect(await count()).toEqual(before);
  });

  it("replay --check --from the file replays every run cleanly, without a World", async () => {
    const result = await stepwise(
      {
        STEPWISE_WORLD: "postgres",
        STEPWISE_POSTGRES_URL: "postgres://nobody@127.0.0.1:1/none",
        STEPWISE_ENCRYPTION_KEY: KEY,
      },
      "replay",
      "--check",
      "--all",
      "--from",
      file(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`checked ${TOTAL} runs: ${TOTAL} replay cleanly`);
  });

  describe("bad input: refused, saying what to do, the destination unchanged", () => {
    const dest = () => local(".dest");
    let before = "";
    const variant = (name: string, edit: (lines: string[]) => string[], retrail = true): string => {
      let lines = readFileSync(file(), "utf8")
        .split("\n")
        .filter((line) => line !== "");
      lines = edit(lines);
      if (retrail) {
        const body = lines
          .slice(0, -1)
          .map((line) => `${line}\n`)
          .join("");
        const trailer = JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
        trailer.sha256 = createHash("sha256").update(body).digest("hex");
        lines[lines.length - 1] = JSON.stringify(trailer);
      }
      const path = join(project.dir, name);
      writeFileSync(path, lines.map((line) => `${line}\n`).join(""));
      return path;
    };

    beforeAll(async () => {
      // The destination holds one run of its own, under an id the file also has.
      const started = await script(dest(), "start-id.ts", ids.c0 as string);
      expect(started.code, started.stderr).toBe(0);
      before = digest(".dest");
    }, 60_000);

    const refused = async (path: string, ...words: string[]) => {
      const result = await stepwise(dest(), "import", path);
      expect(result.code).toBe(1);
      for (const word of words) expect(result.stderr).toContain(word);
      expect(result.stderr).toContain("Nothing was imported");
      expect(digest(".dest")).toBe(before);
    };

    it("a truncated file", async () => {
      const bytes = readFileSync(file());
      const path = join(project.dir, "truncated.ndjson");
      writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await refused(path, "truncated", "Export the runs again");
    });

    it("a file with one byte changed", async () => {
      const bytes = Buffer.from(readFileSync(file()));
      const at = bytes.indexOf(Buffer.from('"seed":"')) + 10;
      bytes[at] = bytes[at] === 0x61 ? 0x62 : 0x61;
      const path = join(project.dir, "flipped.ndjson");
      writeFileSync(path, bytes);
      await refused(path, "does not match the SHA-256");
    });

    it("a run id held by another run in the destination", async () => {
      const result = await stepwise(dest(), "import", file());
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${ids.c0}: another run of the same workflow has this id here`);
      expect(result.stderr).toContain("Nothing was imported");
      expect(result.stderr).toContain("import into another World");
      expect(digest(".dest")).toBe(before);
    });

    it("a bundle whose code does not match its hash", async () => {
      // A forger with the key: the code changed and sealed again for its hash, so only the hash check can tell.
      const codec = createPayloadCodec({ keyring: createKeyring(parseEncryptionKey(KEY, "test"), []) });
      const path = variant("bundle.ndjson", (lines) =>
        lines.map((line) => {
          if (!line.startsWith('{"type":"bundle"')) return line;
          const bundle = JSON.parse(line) as { hash: string; code: string };
          const scope = bundleScope(bundle.hash);
          const code = codec.decode(scope, BUNDLE_PLACE, new Uint8Array(Buffer.from(bundle.code, "base64")));
          const sealed = codec.encode(scope, BUNDLE_PLACE, `${String(code)}\n// changed`);
          bundle.code = Buffer.from(sealed).toString("base64");
          return JSON.stringify(bundle);
        }),
      );
      expect(readFileSync(path, "utf8")).toContain('"type":"bundle"');
      await refused(path, "does not match its hash", "Export the runs again");
    });

    it("a file from a newer format version", async () => {
      const path = variant("newer.ndjson", (lines) => [
        lines[0]?.replace('"formatVersion":1', '"formatVersion":99') ?? "",
        ...lines.slice(1),
      ]);
      await refused(path, "newer Stepwise (export format 99");
    });
  });
});
