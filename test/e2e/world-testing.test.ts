/**
 * A third party tests its own World with one call, through the package's exports as npm installs
 * them (test/helpers/installed.ts: the files `npm pack` ships, the runtime dependencies linked,
 * no vitest unless the project adds it). The project's World wraps the memory World behind an
 * object of its own; a second, broken one forgets the append's fencing. The project's own vitest
 * runs `describeWorldConformance` on both: the first passes every test, the second fails the
 * fencing tests. Without vitest, the testing entry says what to install; `stepwise-workflows/world`
 * needs no vitest, and both entries type-check from `types`. Needs `npm run build`.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeInstalledProject } from "../helpers/installed.ts";
import type { NodeResult, Project } from "../helpers/project.ts";
import { REPO } from "../helpers/project.ts";

const WORLD = `
import { createMemoryWorld, type World } from "stepwise-workflows/world";

type Group = Record<string, (...args: never[]) => unknown>;

/** The same methods, called through this object's own functions. */
function delegate<T extends object>(group: T): T {
  const out: Group = {};
  for (const [name, method] of Object.entries(group as Group)) {
    out[name] = (...args: never[]) => method(...args);
  }
  return out as T;
}

/** A third party's World: the memory World behind an object of its own. */
export function createWrappedWorld(now?: () => number): World {
  const inner = createMemoryWorld(now === undefined ? {} : { now });
  return {
    name: "wrapped",
    runs: delegate(inner.runs),
    events: delegate(inner.events),
    steps: delegate(inner.steps),
    hooks: delegate(inner.hooks),
    waits: delegate(inner.waits),
    queue: delegate(inner.queue),
    inbox: delegate(inner.inbox),
    streams: delegate(inner.streams),
    payloads: delegate(inner.payloads),
    bundles: delegate(inner.bundles),
    notices: delegate(inner.notices),
    audit: delegate(inner.audit),
    subscribe: (listener) => inner.subscribe(listener),
    close: () => inner.close(),
  };
}

/** The same, broken: an append goes through whatever the log's sequence number has become. */
export function createUnfencedWorld(now?: () => number): World {
  const world = createWrappedWorld(now);
  const append = world.events.append;
  world.events.append = async (request) => {
    const run = await world.runs.get(request.runId).catch(() => undefined);
    return append(run === undefined ? request : { ...request, expectedSeq: run.seq });
  };
  return world;
}
`;

const suiteFile = (factory: string, name: string): string => `
import { describeWorldConformance, type MakeWorld } from "stepwise-workflows/world/testing";
import { ${factory} } from "./world.ts";

const makeWorld: MakeWorld = async () => {
  let time = 1_700_000_000_000;
  const world = ${factory}(() => time);
  const clock = { now: () => time, advance: (ms: number) => { time += ms; } };
  return { world, clock, cleanup: () => world.close() };
};

describeWorldConformance("${name}", makeWorld);
`;

const FILES: Record<string, string> = {
  "world.ts": WORLD,
  "wrapped.test.ts": suiteFile("createWrappedWorld", "wrapped"),
  "unfenced.test.ts": suiteFile("createUnfencedWorld", "unfenced"),
  "check-world.mjs": `
import { createMemoryWorld, RunNotFoundError, SequenceConflictError } from "stepwise-workflows/world";
const world = createMemoryWorld();
try {
  await world.runs.get("wrun_none");
} catch (error) {
  console.log(JSON.stringify({ notFound: RunNotFoundError.is(error), code: SequenceConflictError.code }));
}
await world.close();
`,
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: [],
    },
    include: ["world.ts", "wrapped.test.ts", "unfenced.test.ts"],
  }),
};

let project: Project;

/** Runs a command in the project with the outer vitest's variables removed. */
function run(args: readonly string[], timeoutMs = 240_000): Promise<NodeResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("VITEST") && key !== "NODE_OPTIONS") env[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: project.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(() => {
  const entry = join(REPO, "dist", "world", "testing", "index.js");
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first.`);
  project = makeInstalledProject(FILES);
});
afterAll(() => project.remove());

interface VitestReport {
  numFailedTests: number;
  numPassedTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

describe("stepwise-workflows/world and /world/testing, installed", () => {
  it("without vitest: /world loads, and /world/testing says what to install", async () => {
    expect(existsSync(join(project.dir, "node_modules", "vitest"))).toBe(false);
    const world = await run(["check-world.mjs"]);
    expect(world.stderr).toBe("");
    expect(JSON.parse(world.stdout)).toEqual({ notFound: true, code: "SEQUENCE_CONFLICT" });
    const testing = await run([
      "--input-type=module",
      "-e",
      'await import("stepwise-workflows/world/testing")',
    ]);
    expect(testing.code).not.toBe(0);
    expect(testing.stderr).toContain("ConfigError");
    expect(testing.stderr).toContain("runs the World conformance suite on vitest");
    expect(testing.stderr).toContain("npm install --save-dev vitest");
  });

  it("type-checks a World and its conformance test against the package's types", async () => {
    const tsc = await run([join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
  });

  it("runs the conformance suite with one call: the wrapped World passes, the unfenced one fails", async () => {
    symlinkSync(join(REPO, "node_modules", "vitest"), join(project.dir, "node_modules", "vitest"), "dir");
    const vitest = join(project.dir, "node_modules", "vitest", "vitest.mjs");
    const result = await run([vitest, "run", "--reporter=json", "--outputFile=report.json"]);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(project.dir, "report.json"), "utf8")) as VitestReport;
    const file = (name: string) => {
      const found = report.testResults.find((entry) => entry.name.endsWith(name));
      if (found === undefined) throw new Error(`No results for ${name}: ${result.stderr}`);
      return found.assertionResults;
    };
    const wrapped = file("wrapped.test.ts");
    expect(wrapped.length).toBeGreaterThan(150);
    expect(wrapped.filter((test) => test.status !== "passed").map((test) => test.fullName)).toEqual([]);
    const unfenced = file("unfenced.test.ts");
    expect(unfenced.length).toBe(wrapped.length);
    const failed = unfenced.filter((test) => test.status === "failed").map((test) => test.fullName);
    expect(failed).toContain(
      "World conformance: unfenced events.append throws SequenceConflictError when the log has moved, naming both sequence numbers",
    );
    expect(report.numFailedTests).toBe(failed.length);
  });
});
