/**
 * `npx stepwise rekey` in real processes, on a real SQLite file and a real PostgreSQL server: runs
 * encrypted under key A (some finished, some waiting on a hook, one with a hook payload waiting in
 * its inbox, all with stream chunks and a step's console output) are re-encrypted under key B with A as the old key; a rekey
 * without A is refused and changes nothing; `--dry-run` changes nothing; a rekey killed with
 * SIGKILL half-way (the kill is asserted: the storage holds both keys' payloads afterwards) finishes
 * when run again; then A is removed and every run still reads and the waiting ones complete.
 * (These tests load `dist/`: run `npm run build`.)
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEncryptionKey } from "../../src/serde/keys.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import {
  makeProject,
  type NodeResult,
  type Project,
  REGISTER,
  REPO,
  runNode,
  spawnNode,
} from "../helpers/project.ts";

const KEY_A = randomBytes(32).toString("base64");
const KEY_B = randomBytes(32).toString("hex");
const ID_A = parseEncryptionKey(KEY_A, "k").id;
const ID_B = parseEncryptionKey(KEY_B, "k").id;
const WAITING = 12;

const FILES: Record<string, string> = {
  "workflows/keep.ts": `
import { createHook, createWebhook, getWritable } from "stepwise-workflows";

async function remember(note: string): Promise<string> {
  "use step";
  console.log(\`log:\${note}\`);
  const writer = getWritable<string>().getWriter();
  await writer.write(\`chunk:\${note}\`);
  await writer.close();
  return \`step:\${note}\`;
}

export async function keep(input: { id: string; wait: boolean }) {
  "use workflow";
  const fromStep = await remember(input.id);
  if (!input.wait) return { fromStep };
  // A webhook's static response is a payload too, kept in the hook's metadata.
  createWebhook({ respondWith: new Response(\`thanks \${input.id}\`, { status: 201 }) });
  const hook = await createHook<{ note: string }>({ token: \`hook-\${input.id}\` });
  return { fromStep, hook: (await hook).note };
}
`,
  // Starts runs: some that finish, WAITING that wait on their hook; prints their ids.
  "start.ts": `
import { getHookByToken, shutdown, start } from "stepwise-workflows/api";
import { keep } from "./workflows/keep.ts";

const ids = [];
for (let i = 0; i < ${WAITING + 3}; i++) {
  const run = await start(keep, [{ id: \`r\${i}\`, wait: i >= 3 }]);
  ids.push(run.runId);
  if (i < 3) await run.returnValue;
}
for (let i = 3; i < ${WAITING + 3}; i++) {
  for (let attempt = 0; ; attempt++) {
    try { await getHookByToken(\`hook-r\${i}\`); break; } catch (error) {
      if (attempt > 1000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
await shutdown();
console.log(JSON.stringify(ids));
`,
  // Resumes one hook without a worker: the payload waits in the run's inbox.
  "send.ts": `
import { resumeHook, shutdown } from "stepwise-workflows/api";
await resumeHook(process.argv[2], { note: process.argv[3] });
await shutdown();
`,
  // Resumes the other hooks, waits for every run, reads results and stream chunks.
  "finish.ts": `
import { getRun, resumeHook } from "stepwise-workflows/api";
import "./workflows/keep.ts"; // the worker of this process drives the waiting runs

const ids = JSON.parse(process.argv[2]);
const out = [];
for (let i = 0; i < ids.length; i++) {
  if (i >= 4) await resumeHook(\`hook-r\${i}\`, { note: \`late-\${i}\` });
}
for (const id of ids) {
  const run = getRun(id);
  const result = await run.returnValue;
  const chunks = [];
  for await (const chunk of run.readable) chunks.push(chunk);
  out.push({ result, chunks });
}
console.log(JSON.stringify(out));
process.exit(0);
`,
  // The environment's World, with each payloads.rewrite delayed: a rekey slow enough to kill half-way.
  "slow-world.mjs": `
import { createWorldFromEnv } from ${JSON.stringify(join(REPO, "dist/process/world-env.js"))};

export default async function () {
  const world = await createWorldFromEnv({ ...process.env, STEPWISE_WORLD: process.env.TEST_INNER_WORLD });
  const rewrite = world.payloads.rewrite;
  world.payloads = {
    rewrite: async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return rewrite(...args);
    },
  };
  return world;
}
`,
};

/** What `finish.ts` prints when every run read and completed. */
function expected(): unknown[] {
  return Array.from({ length: WAITING + 3 }, (_, i) => ({
    result:
      i < 3
        ? { fromStep: `step:r${i}` }
        : { fromStep: `step:r${i}`, hook: i === 3 ? "early-3" : `late-${i}` },
    chunks: [`chunk:r${i}`],
  }));
}

interface Storage {
  env: Record<string, string>;
  /** The key id of every stored payload that is encrypted, and a digest of all payload bytes. */
  keyIds(): Promise<{ ids: string[]; all: string }>;
}

/** The key ids of the payloads, from raw rows of (bytes) */
function summarize(rows: Buffer[]): { ids: string[]; all: string } {
  const ids = rows.filter((bytes) => bytes[0] === 0x03).map((bytes) => bytes.subarray(1, 9).toString("hex"));
  return { ids, all: Buffer.concat(rows).toString("base64") };
}

const PAYLOADS_SQL = (s: string) => `SELECT payload AS bytes FROM ${s}events WHERE payload IS NOT NULL
  UNION ALL SELECT payload FROM ${s}inbox WHERE payload IS NOT NULL
  UNION ALL SELECT data FROM ${s}stream_chunks
  UNION ALL SELECT code FROM ${s}bundles ORDER BY 1`;

/** Steps' console output (step logs): base64 in their outcome events' metadata (`logs.sealed`). */
const LOGS_SQL = (s: string) =>
  `SELECT data FROM ${s}events WHERE type = 'step_completed' ORDER BY run_id, seq`;
const sealedLogs = (datas: unknown[]): Buffer[] => {
  const sealed = datas.flatMap((data) => {
    const value = (data as { logs?: { sealed?: unknown } } | null)?.logs?.sealed;
    return typeof value === "string" ? [Buffer.from(value, "base64")] : [];
  });
  expect(sealed).toHaveLength(WAITING + 3);
  return sealed;
};

/** Webhooks' static responses: base64 in their hooks' metadata (`sealed`). */
const HOOK_META_SQL = (s: string) => `SELECT meta FROM ${s}hooks WHERE meta IS NOT NULL ORDER BY hook_id`;
const sealedResponses = (metas: unknown[]): Buffer[] => {
  const sealed = metas.flatMap((meta) => {
    const value = (meta as { sealed?: unknown } | null)?.sealed;
    return typeof value === "string" ? [Buffer.from(value, "base64")] : [];
  });
  expect(sealed).toHaveLength(WAITING);
  return sealed;
};

let project: Project;
let server: PostgresServer | undefined;
let admin: pg.Client | undefined;

beforeAll(async () => {
  project = makeProject(FILES);
  server = await startPostgres();
  const url = await server.createDatabase();
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  pgUrl = url;
}, 120_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
  project?.remove();
});
let pgUrl = "";

const storages: Record<string, () => Storage> = {
  local: () => ({
    env: { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: join(project.dir, ".data") },
    async keyIds() {
      const db = new Database(join(project.dir, ".data", "stepwise.db"), { readonly: true });
      try {
        const rows = (db.prepare(PAYLOADS_SQL("")).all() as { bytes: Buffer }[]).map((row) => row.bytes);
        const hooks = db.prepare(HOOK_META_SQL("")).all() as { meta: string }[];
        const logs = db.prepare(LOGS_SQL("")).all() as { data: string }[];
        return summarize([
          ...rows,
          ...sealedResponses(hooks.map((row) => JSON.parse(row.meta))),
          ...sealedLogs(logs.map((row) => JSON.parse(row.data))),
        ]);
      } finally {
        db.close();
      }
    },
  }),
  postgres: () => ({
    env: { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: pgUrl, STEPWISE_POSTGRES_SCHEMA: "rekey" },
    async keyIds() {
      const result = await (admin as pg.Client).query(PAYLOADS_SQL("rekey."));
      const hooks = await (admin as pg.Client).query(HOOK_META_SQL("rekey."));
      const logs = await (admin as pg.Client).query(LOGS_SQL("rekey."));
      return summarize([
        ...result.rows.map((row: { bytes: Buffer }) => row.bytes),
        ...sealedResponses(hooks.rows.map((row: { meta: unknown }) => row.meta)),
        ...sealedLogs(logs.rows.map((row: { data: unknown }) => row.data)),
      ]);
    },
  }),
};

const stepwise = (env: Record<string, string>, ...args: string[]): Promise<NodeResult> =>
  runNode([join(project.dir, "node_modules/.bin/stepwise"), ...args], project.dir, env);

describe.each(Object.keys(storages))("npx stepwise rekey on the %s World", (kind) => {
  let storage: Storage;
  let ids: string[] = [];
  const withA = () => ({ ...storage.env, STEPWISE_ENCRYPTION_KEY: KEY_A });
  const rotated = () => ({
    ...storage.env,
    STEPWISE_ENCRYPTION_KEY: KEY_B,
    STEPWISE_ENCRYPTION_OLD_KEYS: KEY_A,
  });
  const onlyB = () => ({ ...storage.env, STEPWISE_ENCRYPTION_KEY: KEY_B });

  beforeAll(async () => {
    storage = (storages[kind] as () => Storage)();
    const started = await runNode(["--import", REGISTER, "start.ts"], project.dir, withA());
    expect(started.code, started.stderr).toBe(0);
    ids = JSON.parse(started.stdout.trim().split("\n").at(-1) ?? "[]") as string[];
    const sent = await runNode(["--import", REGISTER, "send.ts", "hook-r3", "early-3"], project.dir, {
      ...withA(),
      STEPWISE_WORKER: "0",
    });
    expect(sent.code, sent.stderr).toBe(0);
  }, 120_000);

  it("without the old key: refused, naming the key id and the variable; nothing changes", async () => {
    const before = await storage.keyIds();
    expect(new Set(before.ids)).toEqual(new Set([ID_A]));
    const result = await stepwise(onlyB(), "rekey");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`key id ${ID_A}`);
    expect(result.stderr).toContain("STEPWISE_ENCRYPTION_OLD_KEYS");
    expect(result.stderr).toContain("Nothing was changed.");
    expect(await storage.keyIds()).toEqual(before);
  });

  it("without a current key: refused, saying what to set", async () => {
    const before = await storage.keyIds();
    const result = await stepwise({ ...storage.env, STEPWISE_ENCRYPTION_OLD_KEYS: KEY_A }, "rekey");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("STEPWISE_ENCRYPTION_KEY is not set");
    expect(await storage.keyIds()).toEqual(before);
  });

  it("--dry-run reports what it would rewrite and changes nothing", async () => {
    const before = await storage.keyIds();
    const result = await stepwise(rotated(), "rekey", "--dry-run");
    expect(result.code, result.stderr).toBe(0);
    // The stored workflow code is encrypted too, and rewritten with the runs' payloads.
    expect(result.stdout).toContain(
      `would rewrite ${before.ids.length} payloads in ${WAITING + 3} runs and 1 version of workflow code`,
    );
    expect(await storage.keyIds()).toEqual(before);
  });

  it("killed with SIGKILL half-way, then run again: finishes, every payload under the new key", async () => {
    const total = (await storage.keyIds()).ids.length;
    const slow = {
      ...rotated(),
      STEPWISE_WORLD: join(project.dir, "slow-world.mjs"),
      TEST_INNER_WORLD: kind,
    };
    const victim = spawnNode([join(project.dir, "node_modules/.bin/stepwise"), "rekey"], project.dir, slow);
    const deadline = Date.now() + 60_000;
    while (!/re-encrypting: [3-9]\//.test(victim.output.stderr) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    victim.child.kill("SIGKILL");
    await victim.exited;
    expect(victim.child.signalCode).toBe("SIGKILL");
    const half = await storage.keyIds();
    // The kill happened mid-way: both keys' payloads are stored, none lost, none changed in length.
    expect(half.ids.length).toBe(total);
    expect(half.ids.filter((id) => id === ID_B).length).toBeGreaterThan(0);
    expect(half.ids.filter((id) => id === ID_A).length).toBeGreaterThan(0);

    const again = await stepwise(rotated(), "rekey");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/re-encrypting: \d+\/\d+ runs/);
    const after = await storage.keyIds();
    expect(after.ids.length).toBe(total);
    expect(new Set(after.ids)).toEqual(new Set([ID_B]));

    const nothing = await stepwise(rotated(), "rekey", "--dry-run");
    expect(nothing.stdout).toContain("nothing to rewrite");
  }, 120_000);

  it("with the old key removed, every run reads and the waiting ones complete", async () => {
    const finished = await runNode(
      ["--import", REGISTER, "finish.ts", JSON.stringify(ids)],
      project.dir,
      onlyB(),
    );
    expect(finished.code, finished.stderr).toBe(0);
    expect(JSON.parse(finished.stdout.trim().split("\n").at(-1) ?? "null")).toEqual(expected());
    expect(new Set((await storage.keyIds()).ids)).toEqual(new Set([ID_B]));
    // A step's console output was re-encrypted too: it reads with the new key alone.
    const logs = await stepwise(onlyB(), "inspect", "logs", ids[0] ?? "", "--decrypt", "--json");
    expect(logs.code, logs.stderr).toBe(0);
    const items = (JSON.parse(logs.stdout) as { items: { text?: string }[] }).items;
    expect(items.map((item) => item.text)).toEqual(["log:r0"]);
  }, 120_000);
});

describe("npx stepwise rekey: usage", () => {
  it("--help says what it does, with examples; an unknown option is a usage error (exit 2)", async () => {
    const help = await stepwise({}, "rekey", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--dry-run");
    expect(help.stdout).toContain("Examples:");
    expect(help.stdout).toContain("STEPWISE_ENCRYPTION_OLD_KEYS=$OLD npx stepwise rekey");
    const bad = await stepwise({}, "rekey", "--bogus");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--bogus");
  });
});
