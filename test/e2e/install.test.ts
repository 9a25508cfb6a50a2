/**
 * What a new user does, for real: `npm pack` a copy of this checkout (its `prepare` script builds
 * `dist/`), `npm install` the tarball into an empty project from the npm registry (`--prefer-offline`:
 * the local npm cache serves what it has; better-sqlite3 compiles where no prebuilt binary is
 * reachable), then follow the README: its quickstart files, taken from the README itself (the code
 * blocks marked `<!-- file: … -->`), run with `node --import stepwise-workflows/register`; its
 * tsconfig type-checks them with `tsc`; `npx stepwise build` and plain `node` run them too. Also:
 * the tarball ships `dist/`, the sources its maps name and no tests; `pg` is not installed and
 * `STEPWISE_WORLD=postgres` says what to install; a stack trace through Stepwise points at files that
 * exist in the installed package. The slowest test of the suite (about two minutes, most of it
 * better-sqlite3's compile); past three minutes it says how long each stage took.
 */
import { execFile, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { REPO } from "../helpers/project.ts";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
};

/** The environment of a new user's shell: none of the test run's Stepwise or npm-script variables. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("STEPWISE_") || key.startsWith("npm_") || key.startsWith("VITEST")) continue;
    env[key] = value;
  }
  // npm scripts put the repository's node_modules/.bin first on PATH; a user's shell does not.
  env.PATH = (process.env.PATH ?? "")
    .split(":")
    .filter((dir) => !dir.includes("node_modules"))
    .join(":");
  return { ...env, ...extra };
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Result> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd, env: userEnv(env), timeout: 8 * 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Runs and requires exit 0, failing with everything it printed. */
async function must(command: string, args: readonly string[], cwd: string): Promise<Result> {
  const result = await run(command, args, cwd);
  if (result.code !== 0)
    throw new Error(
      `${command} ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`,
    );
  return result;
}

/** The README's quickstart files: each code block right after `<!-- file: <path> … -->`. */
function readmeFiles(): Record<string, string> {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const files: Record<string, string> = {};
  for (const match of readme.matchAll(/<!-- file: (\S+)[^>]*-->\n```[a-z]*\n([\s\S]*?)```/g))
    files[match[1] as string] = match[2] as string;
  return files;
}

/** The repository's files that git lists with `options`. */
function gitFiles(...options: string[]): string[] {
  const listed = spawnSync("git", ["ls-files", "-z", ...options], { cwd: REPO, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  return listed.stdout.split("\0").filter((path) => path !== "" && path !== "node_modules");
}

/** Copies the checkout as a clone would have it (tracked and new files, nothing git ignores). */
function copyCheckout(to: string): void {
  const copy = (path: string): void => {
    mkdirSync(dirname(join(to, path)), { recursive: true });
    cpSync(join(REPO, path), join(to, path));
  };
  // Tracked files (one deleted in the working tree is skipped), then files not yet committed, which
  // other tests running meanwhile may create and remove: one that vanished is not copied.
  for (const path of gitFiles("--cached")) if (existsSync(join(REPO, path))) copy(path);
  for (const path of gitFiles("--others", "--exclude-standard")) {
    try {
      copy(path);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ENOENT") throw error;
    }
  }
  // The checkout's own dependencies (its build needs TypeScript); never its dist/.
  symlinkSync(realpathSync(join(REPO, "node_modules")), join(to, "node_modules"), "dir");
}

const timings: string[] = [];
let totalSeconds = 0;
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    const seconds = (performance.now() - started) / 1000;
    totalSeconds += seconds;
    timings.push(`${label}: ${seconds.toFixed(1)} s`);
  }
}

let work: string;
let app: string;
let tarballEntries: string[];
const QUICKSTART = readmeFiles();
const installed = (...path: string[]) => join(app, "node_modules", "stepwise-workflows", ...path);
const node = (args: string[], env: Record<string, string> = {}) => run(process.execPath, args, app, env);
const npxStepwise = (args: string[], env: Record<string, string> = {}) =>
  run("npx", ["--no", "--", "stepwise", ...args], app, env);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "stepwise-install-"));
  const checkout = join(work, "checkout");
  app = join(work, "app");
  mkdirSync(checkout);
  mkdirSync(app);
  copyCheckout(checkout);
  await timed("npm pack (with its prepare build)", () =>
    must("npm", ["pack", "--pack-destination", work], checkout),
  );
  const tarball = join(work, `stepwise-workflows-${manifest.version}.tgz`);
  tarballEntries = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ""));

  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "quickstart", private: true, type: "module" })}\n`,
  );
  await timed("npm install <tarball>", () =>
    must("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], app),
  );
  for (const [path, content] of Object.entries(QUICKSTART)) {
    mkdirSync(dirname(join(app, path)), { recursive: true });
    writeFileSync(join(app, path), content);
  }
}, 15 * 60_000);

afterAll(() => {
  // Quiet unless slow: past three minutes, say where the time went (CI allows 90 for everything).
  if (totalSeconds > 180)
    console.warn(`install.test.ts took ${totalSeconds.toFixed(0)} s:\n  ${timings.join("\n  ")}`);
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("npm pack, then npm install of the tarball, then the README", () => {
  it("finds the quickstart files in the README", () => {
    expect(Object.keys(QUICKSTART).sort()).toEqual(["app.ts", "tsconfig.json", "workflows/signup.ts"]);
  });

  it("ships the built dist/, the sources its source maps name, and no tests", () => {
    for (const entry of [
      "dist/index.js",
      "dist/api/index.d.ts",
      "dist/register/index.js",
      "dist/cli/index.js",
      "dist/web/index.html",
    ])
      expect(tarballEntries).toContain(entry);
    // The dashboard ships built (users install no front-end toolchain), without its sources or screenshots.
    expect(tarballEntries.some((entry) => /^dist\/web\/assets\/index-[\w-]+\.js$/.test(entry))).toBe(true);
    expect(tarballEntries.filter((entry) => /^(web|docs\/screenshots)\//.test(entry))).toEqual([]);
    expect(tarballEntries).toContain("src/api/index.ts");
    expect(tarballEntries.filter((entry) => /^(test|bench|examples|\.ci)\//.test(entry))).toEqual([]);
    expect(tarballEntries.filter((entry) => /\.test\.ts$|\.test-d\.ts$/.test(entry))).toEqual([]);
    // Every file a shipped source map names is shipped too.
    const missing: string[] = [];
    for (const map of tarballEntries.filter((entry) => entry.endsWith(".map"))) {
      const { sources } = JSON.parse(readFileSync(installed(map), "utf8")) as { sources: string[] };
      for (const source of sources) {
        const file = resolve(dirname(installed(map)), source);
        if (!existsSync(file)) missing.push(`${map} → ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("installs no pg (an optional peer), and says what to install for STEPWISE_WORLD=postgres", async () => {
    expect(existsSync(join(app, "node_modules", "pg"))).toBe(false);
    const result = await node(["--import", "stepwise-workflows/register", "app.ts"], {
      STEPWISE_WORLD: "postgres",
      STEPWISE_POSTGRES_URL: "postgres://nobody@127.0.0.1:1/none",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ConfigError: STEPWISE_WORLD=postgres needs the PostgreSQL driver");
    expect(result.stderr).toContain("npm install pg");
    expect(result.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
  });

  it("runs the README's quickstart with node --import stepwise-workflows/register", async () => {
    const result = await timed("quickstart app.ts", () =>
      node(["--import", "stepwise-workflows/register", "app.ts"]),
    );
    expect(result.stderr).not.toContain("Error");
    expect(result.code).toBe(0);
    // The README says what it prints: the run id, then the result after the sleep.
    expect(result.stdout).toContain("finished: user-ada@example.com");
    // The run it started is in the project's data directory, completed.
    const world = createLocalWorld({ dataDir: join(app, ".stepwise") });
    try {
      const { items } = await world.runs.list();
      expect(items.map((r) => r.workflowName)).toEqual(["workflow//workflows/signup.ts//signup"]);
      const runRecord = items[0]!;
      expect(runRecord.status).toBe("completed");
      expect(result.stdout).toContain(runRecord.runId);
      const steps = await world.steps.list(runRecord.runId);
      expect(steps.map((step) => step.status)).toEqual(["completed", "completed", "completed"]);
    } finally {
      await world.close();
    }
  });

  it("type-checks the quickstart with the README's tsconfig, tsc from npm, and runs a paths alias", async () => {
    const versions = ["typescript", "@types/node"].map((name) => `${name}@${manifest.devDependencies[name]}`);
    await timed("npm install -D typescript @types/node", () =>
      must("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "-D", ...versions], app),
    );
    writeFileSync(
      join(app, "alias.ts"),
      [
        'import { start } from "stepwise-workflows/api";',
        'import { signup } from "@/workflows/signup.ts";',
        'const run = await start(signup, ["grace@example.com"]);',
        'console.log("alias", run.runId);',
        "// @ts-expect-error signup needs an email",
        "void (() => start(signup));",
        "",
      ].join("\n"),
    );
    const checked = await run("npx", ["--no", "--", "tsc", "-p", "tsconfig.json"], app);
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    const result = await node(["--import", "stepwise-workflows/register", "alias.ts"]);
    expect(result.stdout).toMatch(/^alias wrun_/);
    expect(result.code).toBe(0);
  });

  it("builds the quickstart with npx stepwise build and runs it with plain node", async () => {
    const built = await timed("npx stepwise build", () =>
      npxStepwise(["build", "app.ts", "workflows/signup.ts", "--out-dir", "build"]),
    );
    expect(built.code).toBe(0);
    const result = await node(["--enable-source-maps", "build/app.js"]);
    expect(result.stdout).toMatch(/wrun_/);
    expect(result.code).toBe(0);
  });

  it("points a stack trace through Stepwise at files that exist in the installed package", async () => {
    writeFileSync(
      join(app, "not-a-workflow.ts"),
      [
        'import { start } from "stepwise-workflows/api";',
        "const plain = async (email: string) => email;",
        "try {",
        '  await start(plain as never, ["x"]);',
        "} catch (error) {",
        "  console.log((error as Error).stack);",
        "}",
        "",
      ].join("\n"),
    );
    const result = await node(["--import", "stepwise-workflows/register", "not-a-workflow.ts"]);
    expect(result.stdout).toContain("WorkflowNotRegisteredError");
    const frames = [
      ...result.stdout.matchAll(/\((\/[^():]+\/node_modules\/stepwise-workflows\/[^():]+):\d+:\d+\)/g),
    ].map((match) => match[1] as string);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.some((frame) => frame.endsWith(".ts"))).toBe(true); // mapped to the sources
    expect(frames.filter((frame) => !existsSync(frame))).toEqual([]);
  });

  // The CLI's --version comes with its move to commander (issue 11, item 3).
  it("answers npx stepwise --version with the package's version", async () => {
    const result = await npxStepwise(["--version"]);
    expect(result.stdout.trim()).toBe(manifest.version);
    expect(result.code).toBe(0);
  });
});
