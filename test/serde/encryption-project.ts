/**
 * The project the encryption-at-rest tests run (test/e2e/encryption*.test.ts): a workflow that puts
 * a secret marker into every kind of payload — the run's input, a step's arguments, result and
 * error, a hook payload, a stream chunk, the workflow's output and a failed run's error — and the
 * scripts that start it and read it back, in real processes on whatever World the environment
 * names. Every marker starts with a tag chosen per test, so a test can look for "any plaintext of
 * this phase" in the raw storage with one search.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { makeProject, type NodeResult, type Project, REGISTER, REPO, runNode } from "../helpers/project.ts";

/** Where each marker goes. */
export const MARKS = [
  "INPUT",
  "STEP-ARG",
  "STEP-RESULT",
  "STEP-ERROR",
  "HOOK",
  "STREAM",
  "OUTPUT",
  "RUN-ERROR",
] as const;

const FILES: Record<string, string> = {
  "workflows/secret.ts": `
import { createHook, FatalError, getWritable } from "stepwise-workflows";

async function remember(note: string): Promise<string> {
  "use step";
  const writer = getWritable<string>().getWriter();
  await writer.write(note.replace("STEP-ARG", "STREAM"));
  await writer.close();
  return note.replace("STEP-ARG", "STEP-RESULT");
}

async function explode(tag: string): Promise<void> {
  "use step";
  throw new FatalError(\`\${tag}-STEP-ERROR\`);
}

export async function secrets(input: { id: string; tag: string; note: string }) {
  "use workflow";
  const fromStep = await remember(\`\${input.tag}-STEP-ARG\`);
  let caught = "";
  try {
    await explode(input.tag);
  } catch (error) {
    caught = (error as Error).message;
  }
  const hook = await createHook<{ note: string }>({ token: \`hook-\${input.id}\` });
  return { fromStep, caught, hook: hook.note, output: \`\${input.tag}-OUTPUT\` };
}

export async function fails(tag: string) {
  "use workflow";
  throw new Error(\`\${tag}-RUN-ERROR\`);
}
`,
  "app.ts": `
import { resumeHook, start } from "stepwise-workflows/api";
import { fails, secrets } from "./workflows/secret.ts";

const [tag, id] = process.argv.slice(2);
const run = await start(secrets, [{ id, tag, note: \`\${tag}-INPUT\` }]);
for (let attempt = 0; ; attempt++) {
  try {
    await resumeHook(\`hook-\${id}\`, { note: \`\${tag}-HOOK\` });
    break;
  } catch (error) {
    if (attempt > 500) throw error;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
const result = await run.returnValue;
const failed = await start(fails, [tag]);
const failure = await failed.returnValue.then(() => "not failed", (error) => error.cause.message);
console.log(JSON.stringify({ runId: run.runId, failedId: failed.runId, result, failure }));
`,
  "read.ts": `
import { getRun } from "stepwise-workflows/api";

const [runId, failedId] = process.argv.slice(2);
try {
  const run = getRun(runId);
  const result = await run.returnValue;
  const chunks = [];
  for await (const chunk of run.readable) chunks.push(chunk);
  const failure = await getRun(failedId).returnValue.then(() => "not failed", (error) => error.cause.message);
  console.log(JSON.stringify({ result, chunks, failure }));
} catch (error) {
  console.log(JSON.stringify({ code: error.code, name: error.name, message: error.message }));
}
`,
  "audit-fails-world.mjs": `
import { createLocalWorld } from ${JSON.stringify(join(REPO, "dist/worlds/local/index.js"))};

/** The local World, except that the audit trail cannot be written. */
export default function () {
  const world = createLocalWorld({});
  world.audit = { ...world.audit, record: async () => { throw new Error("the audit trail is unavailable"); } };
  return world;
}
`,
  "postgres-world.mjs": `
import { createPostgresWorld } from ${JSON.stringify(join(REPO, "dist/worlds/postgres/index.js"))};

export default () => createPostgresWorld({ schema: process.env.TEST_POSTGRES_SCHEMA });
`,
};

/** What `app.ts` prints. */
export interface AppOutput {
  runId: string;
  failedId: string;
  result: { fromStep: string; caught: string; hook: string; output: string };
  failure: string;
}

export function encryptionProject(): Project {
  return makeProject(FILES);
}

/** Runs `app.ts` (both workflows, to the end) and returns what it printed. */
export async function runApp(
  project: Project,
  env: Record<string, string>,
  tag: string,
  id: string,
): Promise<{ output: AppOutput; process: NodeResult }> {
  const result = await runNode(["--import", REGISTER, "app.ts", tag, id], project.dir, env);
  expect(result.code, result.stderr).toBe(0);
  const output = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "") as AppOutput;
  // The application sees every value in clear, whatever is stored.
  expect(output.result).toEqual({
    fromStep: `${tag}-STEP-RESULT`,
    caught: `${tag}-STEP-ERROR`,
    hook: `${tag}-HOOK`,
    output: `${tag}-OUTPUT`,
  });
  expect(output.failure).toBe(`${tag}-RUN-ERROR`);
  return { output, process: result };
}

/** Runs `read.ts` in a client-only process: the runs' results, stream chunks and failure, or the error. */
export async function readRuns(
  project: Project,
  env: Record<string, string>,
  output: AppOutput,
): Promise<Record<string, unknown>> {
  const result = await runNode(
    ["--import", REGISTER, "read.ts", output.runId, output.failedId],
    project.dir,
    {
      STEPWISE_WORKER: "0",
      ...env,
    },
  );
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
}

/** What `read.ts` prints for runs it could read. */
export function readable(tag: string): Record<string, unknown> {
  return {
    result: {
      fromStep: `${tag}-STEP-RESULT`,
      caught: `${tag}-STEP-ERROR`,
      hook: `${tag}-HOOK`,
      output: `${tag}-OUTPUT`,
    },
    chunks: [`${tag}-STREAM`],
    failure: `${tag}-RUN-ERROR`,
  };
}

/** The markers of `tag` found in `bytes`. */
export function marksIn(bytes: Buffer, tag: string): string[] {
  return MARKS.filter((mark) => bytes.includes(`${tag}-${mark}`));
}

/** The bytes of every file of the SQLite database in `dataDir` (`stepwise.db`, its `-wal`, ...). */
export function sqliteFiles(dataDir: string): Buffer {
  const files = readdirSync(dataDir).filter((name) => name.startsWith("stepwise.db"));
  expect(files).toContain("stepwise.db");
  return Buffer.concat(files.map((name) => readFileSync(join(dataDir, name))));
}
