/**
 * `node --import stepwise-workflows/register app.ts` for real: spawned Node processes (against `dist/`, so
 * run `npm run build` first; `npm test` does) running TypeScript, `.mts` and `.js` files with
 * directives, on the memory World and on the default local World; compile errors at the user's
 * file and line; stack traces pointing at the user's files; the bundle cache rebuilding when an
 * imported file changes.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAINTEXT_NOTICE } from "../../src/serde/keys.ts";
import { makeProject, type Project, REGISTER, runNode } from "../helpers/project.ts";
import { APP_FILES } from "./helpers/app-files.ts";

let project: Project;
const register = (...args: string[]) => runNode(["--import", REGISTER, ...args], project.dir);
const bundles = (): string[] => {
  const dir = join(project.dir, "node_modules", ".cache", "stepwise", "sandbox");
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".js"))
        .sort()
    : [];
};

beforeAll(() => {
  if (!existsSync(REGISTER))
    throw new Error(`${REGISTER} is missing: run npm run build before the end-to-end tests.`);
  project = makeProject(APP_FILES);
});
afterAll(() => project.remove());

describe("node --import stepwise-workflows/register", () => {
  it("runs .ts, .mts and .js files with directives, resolving .js and extensionless specifiers", async () => {
    const result = await register("app.ts");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(['{"id":"o-1","text":"<confirmed o-1 for 42>"}', "42"]);
    expect(readFileSync(join(project.dir, "charges.log"), "utf8")).toBe("o-1 42\n");
  });

  it("runs on the default (local) World", async () => {
    const dataDir = join(project.dir, ".stepwise-data");
    const result = await runNode(["--import", REGISTER, "app.ts", "o-local"], project.dir, {
      STEPWISE_WORLD: "",
      STEPWISE_DATA_DIR: dataDir,
    });
    // The one notice that payloads are stored unencrypted (no STEPWISE_ENCRYPTION_KEY), and nothing else.
    expect(result.stderr).toBe(`${PLAINTEXT_NOTICE}\n`);
    expect(result.stdout).toContain('{"id":"o-local","text":"<confirmed o-local for 42>"}');
    expect(existsSync(dataDir)).toBe(true);
  });

  it("refuses a one-file app that starts its own workflow at top level, explaining why", async () => {
    const result = await register("single.ts");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'single.ts:15:19: `start` from "stepwise-workflows/api" is used by this file\'s top-level code',
    );
    expect(result.stderr).toContain("Fix: move the code that starts or inspects runs into another module");
  });

  it("refuses a direct call of a workflow function, pointing at start()", async () => {
    const result = await register("direct.ts");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('order() is a workflow ("use workflow")');
    expect(result.stderr).toContain("start(order, [...args])");
  });

  it("points stack traces from a step and from workflow code at the original .ts file and line", async () => {
    const result = await register("fail.ts", "decline", "explode");
    expect(result.code).toBe(0);
    const [, decline = "", explode = ""] = result.stdout.split(/^--- /m);
    expect(decline).toContain("FatalError: card declined");
    expect(decline).toMatch(
      new RegExp(`at chargeCard \\(.*${join(project.dir, "workflows", "steps.ts")}:6:\\d+\\)`),
    );
    expect(explode).toContain("Error: workflow exploded");
    expect(explode).toMatch(
      new RegExp(`at order \\(.*${join(project.dir, "workflows", "order.ts")}:14:\\d+\\)`),
    );
  });

  it("rebuilds the sandbox bundle when an imported file changes, and only then", async () => {
    await register("app.ts");
    const before = bundles();
    const stamp = (file: string) =>
      statSync(join(project.dir, "node_modules", ".cache", "stepwise", "sandbox", file)).mtimeMs;
    const stamps = before.map(stamp);
    const again = await register("app.ts");
    expect(again.code).toBe(0);
    expect(bundles()).toEqual(before);
    expect(before.map(stamp)).toEqual(stamps);

    const decorate = join(project.dir, "lib", "decorate.mts");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the test app
    writeFileSync(decorate, readFileSync(decorate, "utf8").replace("`<${text}>`", "`[${text}]`"));
    const edited = await register("app.ts");
    expect(edited.stdout).toContain('"text":"[confirmed o-1 for 42]"');
    expect(bundles().length).toBe(before.length + 1);
  });
});

describe("compile errors at load", () => {
  const fails = async (file: string, content: string) => {
    project.write(file, content);
    project.write("load.ts", `import "./${file}";\n`);
    const result = await register("load.ts");
    expect(result.code).not.toBe(0);
    return result.stderr;
  };

  it("shows a syntax error at the original file and line", async () => {
    const stderr = await fails(
      "workflows/broken.ts",
      'import { sleep } from "stepwise-workflows";\n\nexport async function broken(id: string) {\n  "use workflow";\n  const n: number = ;\n  await sleep(n);\n}\n',
    );
    expect(stderr).toContain("workflows/broken.ts:5:21: Syntax error");
    expect(stderr).toContain("> 5 |   const n: number = ;");
    expect(stderr).toContain(`at ${join(project.dir, "workflows", "broken.ts")}:5:21`);
  });

  it("shows a syntax error in a file without directives at the original file and line", async () => {
    const stderr = await fails("lib/typo.ts", "export const a: number = 1;\nexport const b = a +;\n");
    expect(stderr).toMatch(/lib\/typo\.ts:2:\d+: Syntax error/);
  });

  it("refuses a Node built-in used by workflow code, with the reason and the fix", async () => {
    const stderr = await fails(
      "workflows/reads.ts",
      'import { readFileSync } from "node:fs";\n\nexport async function reads(path: string) {\n  "use workflow";\n  return readFileSync(path, "utf8");\n}\n',
    );
    expect(stderr).toContain('workflows/reads.ts:1:1: "node:fs" is a Node.js built-in module');
    expect(stderr).toContain("deterministic sandbox without Node.js APIs (`readFileSync` is used at line 5)");
    expect(stderr).toContain('Fix: move the code that uses "node:fs" into a step');
  });

  it("refuses a Node built-in in a helper that workflow code imports, naming the helper's line", async () => {
    project.write(
      "lib/hash.ts",
      'import { createHash } from "node:crypto";\n\nexport const hash = (s: string) => createHash("sha1").update(s).digest("hex");\n',
    );
    const stderr = await fails(
      "workflows/hashes.ts",
      'import { hash } from "../lib/hash.ts";\n\nexport async function hashes(s: string) {\n  "use workflow";\n  return hash(s);\n}\n',
    );
    expect(stderr).toContain('lib/hash.ts:1:1: "node:crypto" is a Node.js built-in module');
    expect(stderr).toContain("part of the workflow code of workflows/hashes.ts");
  });

  it("refuses a directive on an arrow function, with file:line and the fix", async () => {
    const stderr = await fails(
      "workflows/arrow.ts",
      'export const charge = async (n: number) => {\n  "use step";\n  return n;\n};\n',
    );
    expect(stderr).toContain('workflows/arrow.ts:2:3: "use step" is on an arrow function (`charge`)');
    expect(stderr).toContain("Fix: turn it into a top-level `async function` declaration");
  });

  it("prints warnings (a directive not in first position, a Node global in workflow code), also on cached loads", async () => {
    project.write(
      "workflows/late.ts",
      'export async function late() {\n  const x = 1;\n  "use workflow";\n  return x;\n}\n\nexport async function env() {\n  "use workflow";\n  return process.env.HOME;\n}\n',
    );
    project.write("load.ts", 'import "./workflows/late.ts";\nconsole.log("loaded");\n');
    for (const attempt of ["built", "cached"]) {
      const result = await register("load.ts");
      expect(result.code, attempt).toBe(0);
      expect(result.stdout).toBe("loaded\n");
      expect(result.stderr).toContain(
        'workflows/late.ts:3:3: "use workflow" is not the first statement of its function body',
      );
      expect(result.stderr).toContain("workflows/late.ts:9:10: `process` is a Node.js global");
    }
  });
});
