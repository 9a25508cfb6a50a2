/**
 * `pg` is an optional peer dependency: in a project that did not install it, everything that needs
 * the postgres World says what to install — a `ConfigError` naming `npm install pg` — instead of
 * Node's ERR_MODULE_NOT_FOUND from inside the package: an app run with STEPWISE_WORLD=postgres,
 * `npx stepwise doctor` on postgres, and `npx stepwise migrate`. The local World keeps working. Real
 * processes, in a project where Stepwise is installed as npm lays it out (test/helpers/installed.ts).
 * Needs `npm run build`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeInstalledProject } from "../helpers/installed.ts";
import type { NodeResult, Project } from "../helpers/project.ts";
import { runNode } from "../helpers/project.ts";

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

const POSTGRES = { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: "postgres://nobody@127.0.0.1:1/none" };
const INSTALL_PG = "Install it in your project with: npm install pg";

let project: Project;
const node = (args: string[], env: Record<string, string> = {}): Promise<NodeResult> =>
  runNode(args, project.dir, env);

beforeAll(() => {
  const register = join(process.cwd(), "dist", "register", "index.js");
  if (!existsSync(register)) throw new Error(`${register} is missing: run npm run build first.`);
  project = makeInstalledProject(FILES);
});
afterAll(() => project.remove());

describe("a project without pg", () => {
  it("has no pg to resolve (the fixture is what a SQLite user installs)", () => {
    expect(existsSync(join(project.dir, "node_modules", "pg"))).toBe(false);
    const installed = join(project.dir, "node_modules", "stepwise-workflows");
    expect(existsSync(join(installed, "dist", "index.js"))).toBe(true);
  });

  it("runs on the local World", async () => {
    const result = await node(["--import", "stepwise-workflows/register", "app.ts"], {
      STEPWISE_WORLD: "local",
      STEPWISE_DATA_DIR: join(project.dir, ".stepwise"),
    });
    expect(result.stdout).toBe("hello ada\n");
    expect(result.code).toBe(0);
  });

  it("STEPWISE_WORLD=postgres: a ConfigError that says npm install pg", async () => {
    const result = await node(["--import", "stepwise-workflows/register", "app.ts"], POSTGRES);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "ConfigError: STEPWISE_WORLD=postgres needs the PostgreSQL driver, node-postgres, which is not installed",
    );
    expect(result.stderr).toContain(INSTALL_PG);
    expect(result.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
  });

  it("npx stepwise doctor on postgres: says what to install, exit 1", async () => {
    const result = await node([join(project.dir, "node_modules", ".bin", "stepwise"), "doctor"], POSTGRES);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("npx stepwise doctor on the postgres World needs the PostgreSQL driver");
    expect(result.stderr).toContain(INSTALL_PG);
    expect(result.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
  });

  it("npx stepwise migrate: says what to install, exit 1", async () => {
    const result = await node([join(project.dir, "node_modules", ".bin", "stepwise"), "migrate"], POSTGRES);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("npx stepwise migrate needs the PostgreSQL driver");
    expect(result.stderr).toContain(INSTALL_PG);
    expect(result.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
  });
});
