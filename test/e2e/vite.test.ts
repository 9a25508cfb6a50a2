/**
 * `examples/vite` with the `stepwise()` plugin of `stepwise-workflows/vite`, real processes: built
 * (`vite build`, `vite build --ssr`) and served from dist/ with plain node, a workflow completes;
 * served through Vite's dev server (`ssrLoadModule`), a workflow completes; and a workflow file
 * reached from the browser bundle fails the build, naming the file. Needs `npm run build`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stepwise } from "../../src/vite/index.ts";
import { pollFor } from "../helpers/e2e.ts";
import { makeProject, REPO, spawnNode } from "../helpers/project.ts";

const APP = join(REPO, "examples", "vite");
const VITE = join(REPO, "node_modules", "vite", "bin", "vite.js");

let dir: string;
const servers: ReturnType<typeof spawnNode>[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-vite-"));
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = (name: string) => ({
  STEPWISE_WORLD: "local",
  STEPWISE_DATA_DIR: join(dir, `data-${name}`),
  STEPWISE_CACHE_DIR: join(dir, "cache"),
  PORT: "0",
});

function vite(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITE, ...args], {
      cwd: APP,
      env: { ...process.env, ...env("build") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`vite ${args.join(" ")} exited ${code}:\n${output}`)),
    );
  });
}

/** Starts server.js (built or `--dev`), starts a signup, and waits for the run to complete. */
async function signupCompletes(args: string[], name: string, email: string): Promise<void> {
  const server = spawnNode([join(APP, "server.js"), ...args], APP, env(name));
  servers.push(server);
  const base = await pollFor("the server's URL", async () => {
    if (server.child.exitCode !== null) throw new Error(`server.js exited: ${server.output.stderr}`);
    return /listening on (http:\/\/\S+)/.exec(server.output.stdout)?.[1];
  });
  const page = await fetch(base);
  expect(await page.text()).toContain("<h1>Sign up</h1>");
  const started = await fetch(`${base}/api/signup`, { method: "POST", body: JSON.stringify({ email }) });
  expect(started.status, await started.clone().text()).toBe(201);
  const { runId } = (await started.json()) as { runId: string };
  const run = await pollFor("the run to complete", async () => {
    const current = (await (await fetch(`${base}/api/runs/${runId}`)).json()) as { status: string };
    return current.status === "completed" ? current : undefined;
  });
  const account = `acct-${email.split("@")[0]}`;
  expect(run).toEqual({ status: "completed", output: { account, mail: `welcome mail sent to ${account}` } });
}

describe("examples/vite", () => {
  it("built: vite build and vite build --ssr, then plain node runs a workflow to completion", async () => {
    await vite(["build"]);
    await vite(["build", "--ssr", "src/entry-server.js"]);
    const server = readFileSync(join(APP, "dist", "server", "entry-server.js"), "utf8");
    expect(server).toContain("registerWorkflowBundleInline(");
    expect(server).toContain('from "stepwise-workflows/internal"'); // external, not bundled
    await signupCompletes([], "built", "ada@example.com");
  });

  it("dev: Vite's dev server compiles the workflow on the fly, and a run completes", async () => {
    await signupCompletes(["--dev"], "dev", "bo@example.com");
  });

  it("a workflow file in the browser bundle fails the build, naming the file", async () => {
    const project = makeProject({
      "index.html": '<script type="module" src="/main.js"></script>\n',
      "main.js": 'import { order } from "./order.ts";\nconsole.log(order);\n',
      "order.ts": 'export async function order() {\n  "use workflow";\n  return 1;\n}\n',
    });
    try {
      const error = await build({
        root: project.dir,
        configFile: false,
        logLevel: "silent",
        plugins: [stepwise()],
        build: { write: false },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toContain("order.ts:2:3");
      expect(message).toContain("defines order() with");
      expect(message).toContain("part of a browser (or edge) bundle");
    } finally {
      project.remove();
    }
  });
}, 180_000);
