/**
 * The "payloads are stored unencrypted" notice is said once per storage, not by every process: once
 * per data directory on the local World (remembered in its database), once per database schema on
 * postgres, never on the memory World. Real processes, a real SQLite file, a throwaway PostgreSQL
 * server. (These tests load `dist/`: run `npm run build` first.)
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAINTEXT_NOTICE } from "../../src/serde/keys.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import { makeProject, type NodeResult, type Project, REGISTER, runNode } from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "workflows/hello.ts": `
async function greet(name: string): Promise<string> {
  "use step";
  return \`hello \${name}\`;
}
export async function hello(name: string) {
  "use workflow";
  return await greet(name);
}
`,
  "app.ts": `
import { start } from "stepwise-workflows/api";
import { hello } from "./workflows/hello.ts";
const run = await start(hello, ["ada"]);
console.log(await run.returnValue);
`,
};

let project: Project;
beforeAll(() => {
  project = makeProject(FILES);
});
afterAll(() => project.remove());

const app = (env: Record<string, string>) => runNode(["--import", REGISTER, "app.ts"], project.dir, env);
const cli = (env: Record<string, string>, ...args: string[]) =>
  runNode([join(project.dir, "node_modules/.bin/stepwise"), ...args], project.dir, env);
/** How many times a process said the notice (it prints nothing else on stderr). */
function notices(result: NodeResult): number {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr.replaceAll(`${PLAINTEXT_NOTICE}\n`, "")).toBe("");
  return result.stderr.split(PLAINTEXT_NOTICE).length - 1;
}

describe("the plaintext notice, on the local World", () => {
  const local = (dir: string) => ({ STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: dir });

  it("is said by the first process on a data directory, and by no later one", async () => {
    const first = await app(local(".first"));
    expect(first.stdout.trim()).toBe("hello ada");
    expect(notices(first)).toBe(1);
    expect(notices(await app(local(".first")))).toBe(0);
    // A client that only starts a run stores its input: the first on its directory says it.
    expect(notices(await cli(local(".client"), "start", "hello", '["bob"]'))).toBe(1);
    expect(notices(await cli(local(".client"), "start", "hello", '["cy"]'))).toBe(0);
    expect(notices(await app(local(".client")))).toBe(0);
    // Another data directory is another storage.
    expect(notices(await app(local(".first/../.second")))).toBe(1);
  });

  it("is said by exactly one of several processes starting at once on a new data directory", async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => app(local(".together"))));
    expect(results.map(notices).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("is never said on the memory World", async () => {
    expect(notices(await app({ STEPWISE_WORLD: "memory" }))).toBe(0);
  });
});

describe("the plaintext notice, on the postgres World", () => {
  let server: PostgresServer;
  let url = "";
  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  const postgres = (schema: string) => ({
    STEPWISE_WORLD: "postgres",
    STEPWISE_POSTGRES_URL: url,
    STEPWISE_POSTGRES_SCHEMA: schema,
  });

  it("is said once per database schema, by the first process", async () => {
    const results = await Promise.all([1, 2, 3].map(() => app(postgres("notice_a"))));
    expect(results.map(notices).reduce((a, b) => a + b, 0)).toBe(1);
    expect(notices(await app(postgres("notice_a")))).toBe(0);
    expect(notices(await app(postgres("notice_b")))).toBe(1);
  });
});
