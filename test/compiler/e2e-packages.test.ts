/**
 * npm packages that ship durable code (seed 002: an SDK with "use workflow" / "use step" inside),
 * in real Node processes: a package installed as a folder under the project's node_modules,
 * whose workflow calls its own steps, started by an app through `node --import
 * stepwise-workflows/register` and from an ahead-of-time build run with plain `node`; a project
 * workflow that calls a package's step; ids from the package name; and the loud refusals (a
 * CommonJS package with a directive, a package step written as an arrow function). Run `npm run
 * build` first: the processes load `dist/`.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are the source text of the test package
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProject } from "../../src/compiler/build.ts";
import { CompileError } from "../../src/compiler/errors.ts";
import { makeProject, npxStepwise, type Project, REGISTER, runNode } from "../helpers/project.ts";

const PKG = "node_modules/@acme/durable";

const FILES: Record<string, string> = {
  [`${PKG}/package.json`]: JSON.stringify({
    name: "@acme/durable",
    version: "1.0.0",
    type: "module",
    exports: { ".": "./dist/index.js" },
    peerDependencies: { "stepwise-workflows": "*" },
  }),
  [`${PKG}/dist/index.js`]: [
    "// The package's entry: no directive here, it only re-exports.",
    'export { onboard } from "./onboard.js";',
    'export { sendEmail } from "./email.js";',
    "",
  ].join("\n"),
  [`${PKG}/dist/email.js`]: [
    '"use step";',
    'import { appendFileSync } from "node:fs";',
    "",
    "export async function sendEmail(to, subject) {",
    '  appendFileSync("emails.log", `${to}: ${subject}\\n`);',
    "  return `sent ${subject} to ${to}`;",
    "}",
    "",
  ].join("\n"),
  [`${PKG}/dist/onboard.js`]: [
    'import { sleep } from "stepwise-workflows";',
    'import { sendEmail } from "./email.js";',
    "",
    "async function createAccount(email) {",
    '  "use step";',
    "  return { id: `acct-${email}`, pid: process.pid };",
    "}",
    "",
    "export async function onboard(email) {",
    '  "use workflow";',
    "  const account = await createAccount(email);",
    '  await sleep("10ms");',
    '  const sent = await sendEmail(email, "welcome");',
    "  return { account: account.id, sent };",
    "}",
    "",
  ].join("\n"),
  "workflows/signup.ts": [
    'import { sendEmail } from "@acme/durable";',
    "",
    "export async function signup(email: string) {",
    '  "use workflow";',
    '  return await sendEmail(email, "signed up");',
    "}",
    "",
  ].join("\n"),
  "app.ts": [
    'import { onboard } from "@acme/durable";',
    'import { start } from "stepwise-workflows/api";',
    'import { signup } from "./workflows/signup.ts";',
    "",
    "console.log((onboard as unknown as { workflowId: string }).workflowId);",
    'const run = await start(onboard, ["ada@example.com"]);',
    "console.log(JSON.stringify(await run.returnValue));",
    'const other = await start(signup, ["bob@example.com"]);',
    "console.log(JSON.stringify(await other.returnValue));",
    "",
  ].join("\n"),
};

const EXPECTED_STDOUT = [
  "workflow//npm:@acme/durable/dist/onboard.js//onboard",
  '{"account":"acct-ada@example.com","sent":"sent welcome to ada@example.com"}',
  '"sent signed up to bob@example.com"',
];

let project: Project;
const register = (...args: string[]) => runNode(["--import", REGISTER, ...args], project.dir);

beforeAll(() => {
  if (!existsSync(REGISTER))
    throw new Error(`${REGISTER} is missing: run npm run build before the end-to-end tests.`);
  project = makeProject(FILES);
});
afterAll(() => project.remove());

describe("a package in node_modules with directives", () => {
  it("runs its workflow (calling its own steps) and a project workflow calling its step, under the register hook", async () => {
    const result = await register("app.ts");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(EXPECTED_STDOUT);
    // The steps ran as steps, on the host: they wrote the log (a sandbox has no node:fs).
    expect(readFileSync(join(project.dir, "emails.log"), "utf8")).toBe(
      "ada@example.com: welcome\nbob@example.com: signed up\n",
    );
    // The package's sandbox bundle is cached with the project, never inside the package.
    const cache = join(project.dir, "node_modules", ".cache", "stepwise", "sandbox");
    const manifests = readdirSync(cache).filter((f) => f.endsWith(".json"));
    const entries = manifests.map(
      (f) =>
        (JSON.parse(readFileSync(join(cache, f), "utf8")) as { entry: string; inputs: [string][] }).entry,
    );
    expect(entries).toContain(join(project.dir, PKG, "dist", "onboard.js"));
    expect(existsSync(join(project.dir, PKG, "node_modules"))).toBe(false);
    expect(existsSync(join(project.dir, PKG, ".stepwise"))).toBe(false);
  });

  it("rebuilds the bundle when a package file with a directive changes", async () => {
    const file = join(project.dir, PKG, "dist", "onboard.js");
    const original = readFileSync(file, "utf8");
    project.write(`${PKG}/dist/onboard.js`, original.replace('"welcome"', '"hello"'));
    try {
      const result = await register("app.ts");
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain('"sent hello to ada@example.com"');
    } finally {
      project.write(`${PKG}/dist/onboard.js`, original);
    }
  });
});

describe("the CLI with a package's workflow", () => {
  it("starts it by name and runs it when a loaded project file re-exports it", async () => {
    project.write("workflows/acme.ts", 'export { onboard } from "@acme/durable";\n');
    const result = await npxStepwise(
      ["start", "onboard", '["cli@example.com"]', "--wait", "--json", "--load", "workflows/acme.ts"],
      project.dir,
      { STEPWISE_WORLD: "memory" },
    );
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { status: string; result: unknown };
    expect(printed.status).toBe("completed");
    expect(printed.result).toEqual({
      account: "acct-cli@example.com",
      sent: "sent welcome to cli@example.com",
    });
  });
});

describe("the ahead-of-time build of an app that uses such a package", () => {
  it("emits the package compiled under <outDir>/node_modules, and the app runs with plain node", async () => {
    const built = await buildProject({ root: project.dir, entries: ["app.ts"], outDir: "build" });
    const rel = (p: string) => p.slice(project.dir.length + 1);
    expect(built.bundles.map((b) => [rel(b.output), b.workflowIds])).toEqual([
      ["build/workflows/signup.sandbox.js", ["workflow//workflows/signup.ts//signup"]],
      [`build/${PKG}/dist/onboard.sandbox.js`, ["workflow//npm:@acme/durable/dist/onboard.js//onboard"]],
    ]);
    expect(built.stepIds.sort()).toEqual([
      "step//npm:@acme/durable/dist/email.js//sendEmail",
      "step//npm:@acme/durable/dist/onboard.js//createAccount",
    ]);
    // The package is copied whole (its entry has no directive and stays as published); the original is untouched.
    expect(readFileSync(join(project.dir, "build", PKG, "dist", "index.js"), "utf8")).toBe(
      FILES[`${PKG}/dist/index.js`],
    );
    expect(readFileSync(join(project.dir, PKG, "dist", "email.js"), "utf8")).toBe(
      FILES[`${PKG}/dist/email.js`],
    );

    project.write("emails.log", "");
    const result = await runNode(["build/app.js"], project.dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(EXPECTED_STDOUT);
    expect(readFileSync(join(project.dir, "emails.log"), "utf8")).toBe(
      "ada@example.com: welcome\nbob@example.com: signed up\n",
    );
  });
});

describe("package code that cannot work is refused, with file, line and fix", () => {
  const fails = async (files: Record<string, string>, entry: string) => {
    for (const [path, content] of Object.entries(files)) project.write(path, content);
    const result = await register(entry);
    expect(result.code).not.toBe(0);
    return result.stderr;
  };

  it("a CommonJS package with a directive", async () => {
    const stderr = await fails(
      {
        "node_modules/legacy-durable/package.json": JSON.stringify({
          name: "legacy-durable",
          main: "index.js",
        }),
        "node_modules/legacy-durable/index.js": [
          '"use strict";',
          "async function charge(n) {",
          '  "use step";',
          "  return n;",
          "}",
          "exports.charge = charge;",
          "",
        ].join("\n"),
        "legacy.ts": 'import { charge } from "legacy-durable";\nconsole.log(await charge(1));\n',
      },
      "legacy.ts",
    );
    expect(stderr).toContain(
      'node_modules/legacy-durable/index.js:3:3: This file is CommonJS, but it has a "use step" directive (on `charge`), and directives only work in ES modules.',
    );
    expect(stderr).toContain("Fix: the package legacy-durable must ship its durable code as ES modules");
    // The ahead-of-time build refuses it too, instead of leaving it to run as plain code.
    const build = buildProject({ root: project.dir, entries: ["legacy.ts"], outDir: "build-legacy" });
    await expect(build).rejects.toBeInstanceOf(CompileError);
    await expect(build).rejects.toThrow(
      'node_modules/legacy-durable/index.js:3:3: This file is CommonJS, but it has a "use step" directive',
    );
  });

  it("a CommonJS file of the project with a directive, at its line", async () => {
    const stderr = await fails(
      {
        "lib/legacy.cjs":
          'exports.pay = pay;\n\nasync function pay(n) {\n  "use workflow";\n  return n;\n}\n',
        "legacy-app.ts": 'import { pay } from "./lib/legacy.cjs";\nconsole.log(typeof pay);\n',
      },
      "legacy-app.ts",
    );
    expect(stderr).toContain(
      'lib/legacy.cjs:4:3: This file is CommonJS, but it has a "use workflow" directive (on `pay`), and directives only work in ES modules.',
    );
    expect(stderr).toContain('Fix: make it an ES module: rename it to .mjs or .mts, or set "type": "module"');
  });

  it("a package workflow whose step is an arrow function", async () => {
    const stderr = await fails(
      {
        "node_modules/arrow-durable/package.json": JSON.stringify({
          name: "arrow-durable",
          type: "module",
          exports: "./index.js",
        }),
        "node_modules/arrow-durable/index.js": [
          "const charge = async (n) => {",
          '  "use step";',
          "  return n;",
          "};",
          "",
          "export async function pay(n) {",
          '  "use workflow";',
          "  return await charge(n);",
          "}",
          "",
        ].join("\n"),
        "arrow.ts": 'import { pay } from "arrow-durable";\nconsole.log(typeof pay);\n',
      },
      "arrow.ts",
    );
    expect(stderr).toContain(
      'node_modules/arrow-durable/index.js:2:3: "use step" is on an arrow function (`charge`)',
    );
    expect(stderr).toContain("Fix: turn it into a top-level `async function` declaration");
  });
});
