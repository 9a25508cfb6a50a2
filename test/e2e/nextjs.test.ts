/**
 * `examples/nextjs` built with `next build` and served by `next start`, real processes: with
 * Turbopack (Next's default) it is driven in Chromium — the form starts the workflow through a
 * server action, the page shows the progress read from the run's durable stream through the run
 * API, the button resumes the hook, the run completes — and with webpack (`next build --webpack`)
 * a run started through the run API's route handlers completes. Needs `npm run build` (the example
 * installs this checkout's `dist/` into its node_modules, as `npm install` would) and Chromium at
 * /usr/bin/chromium (or STEPWISE_CHROMIUM): without it the test fails, it does not skip.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.ts";
import { pollFor } from "../helpers/e2e.ts";
import { REPO, runNode, spawnNode } from "../helpers/project.ts";

const APP = join(REPO, "examples", "nextjs");
const NEXT = join(REPO, "node_modules", "next", "dist", "bin", "next");
const SECRET = randomBytes(24).toString("hex");

let dir: string;
const servers: ReturnType<typeof spawnNode>[] = [];
let browser: Browser | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-next-"));
  const prepared = await runNode([join(REPO, "examples", "prepare.mjs"), APP], APP);
  expect(prepared.code, prepared.stderr).toBe(0);
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `next build` (Turbopack unless `--webpack`) in `cwd`: its exit code and output. */
function nextBuildIn(cwd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NEXT, "build", ...args], {
      cwd,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
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
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** `next build` of the example; fails the test with Next's output. */
async function nextBuild(args: string[]): Promise<void> {
  const { code, output } = await nextBuildIn(APP, args);
  if (code !== 0) throw new Error(`next build ${args.join(" ")} exited ${code}:\n${output}`);
}

/**
 * A throwaway app inside the repository (Turbopack compiles only files under its root, which must
 * also hold the real node_modules) whose client component imports a workflow file.
 */
function makeClientMisuseApp(): string {
  const app = mkdtempSync(join(REPO, "test", "e2e", ".tmp-next-"));
  const modules = realpathSync(join(REPO, "node_modules"));
  let root = REPO.replace(/\/$/, "");
  while (!`${modules}${sep}`.startsWith(`${root}${sep}`)) root = dirname(root);
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ name: "misuse", private: true, type: "module" }),
    "next.config.mjs": [
      'import { withWorkflow } from "stepwise-workflows/next";',
      `export default withWorkflow({ turbopack: { root: ${JSON.stringify(root)} }, outputFileTracingRoot: ${JSON.stringify(root)} });`,
    ].join("\n"),
    "workflows/order.ts": [
      "async function charge(): Promise<number> {",
      '  "use step";',
      "  return 1;",
      "}",
      "export async function order() {",
      '  "use workflow";',
      "  return await charge();",
      "}",
    ].join("\n"),
    "app/layout.jsx":
      "export default function L({ children }) { return <html><body>{children}</body></html>; }",
    "app/page.jsx": 'import { Button } from "./button";\nexport default function P() { return <Button />; }',
    "app/button.jsx": [
      '"use client";',
      'import { order } from "../workflows/order";',
      'export function Button() { return <button type="button" onClick={() => console.log(order)}>go</button>; }',
    ].join("\n"),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(app, path)), { recursive: true });
    writeFileSync(join(app, path), `${content}\n`);
  }
  cpSync(join(APP, "node_modules", "stepwise-workflows"), join(app, "node_modules", "stepwise-workflows"), {
    recursive: true,
  });
  return app;
}

/** The server chunks of the last build that carry an inlined sandbox bundle. */
function chunksWithInlinedBundles(): string[] {
  const root = join(APP, ".next", "server");
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (
        entry.name.endsWith(".js") &&
        readFileSync(path, "utf8").includes("registerWorkflowBundleInline")
      )
        found.push(path);
    }
  };
  walk(root);
  return found;
}

const worldEnv = (name: string) => ({
  STEPWISE_WORLD: "local",
  STEPWISE_DATA_DIR: join(dir, `data-${name}`),
});

/** `next start` on a free port with its own data directory; resolves with its URL. */
async function nextStart(name: string, env: Record<string, string> = {}): Promise<string> {
  const server = spawnNode([NEXT, "start", "-p", "0", "-H", "127.0.0.1"], APP, {
    NEXT_TELEMETRY_DISABLED: "1",
    ...worldEnv(name),
    STEPWISE_HTTP_SECRET: SECRET,
    ...env,
  });
  servers.push(server);
  return pollFor("next start's URL", async () => {
    if (server.child.exitCode !== null) throw new Error(`next start exited: ${server.output.stderr}`);
    return /Local:\s+(http:\/\/\S+)/.exec(server.output.stdout)?.[1];
  });
}

const api = (base: string, path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${base}/stepwise${path}`, {
    ...init,
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json", ...init.headers },
  });

async function runOf(base: string, runId: string): Promise<{ status: string; output?: unknown }> {
  const response = await api(base, `/runs/${encodeURIComponent(runId)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; output?: unknown };
}

describe("examples/nextjs", () => {
  it("Turbopack: the form starts a run, the page follows its stream, the button resumes its hook", async () => {
    await nextBuild([]);
    expect(chunksWithInlinedBundles().length).toBeGreaterThan(0);
    const base = await nextStart("turbopack");

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base);
    await page.fill('input[name="orderId"]', "order-42");
    await page.fill('input[name="item"]', "lamp");
    await page.fill('input[name="quantity"]', "3");
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/runs\/wrun_/, { timeout: 30_000 });
    const runId = decodeURIComponent(new URL(page.url()).pathname.split("/")[2] ?? "");

    const progress = page.locator("#progress li");
    await progress.filter({ hasText: "waiting for approval" }).waitFor({ timeout: 30_000 });
    expect(await progress.allTextContents()).toEqual([
      "order order-42 received",
      "reserved 3 × lamp",
      "waiting for approval",
    ]);
    expect((await runOf(base, runId)).status).toBe("running");

    await page.click("#approve");
    await page.locator("#ended").waitFor({ timeout: 30_000 });
    expect(await progress.allTextContents()).toEqual([
      "order order-42 received",
      "reserved 3 × lamp",
      "waiting for approval",
      "approved by the example page",
      "shipped order-42 from rsv-lamp-3",
      "done",
    ]);
    const run = await pollFor("the run to complete", async () => {
      const current = await runOf(base, runId);
      return current.status === "completed" ? current : undefined;
    });
    expect(run.output).toEqual({ orderId: "order-42", status: "shipped", tracking: "trk-order-42" });
    await context.close();
  });

  it("webpack: next build --webpack compiles the workflow; with the worker in `npx stepwise worker`, a run completes", async () => {
    await nextBuild(["--webpack"]);
    expect(chunksWithInlinedBundles().length).toBeGreaterThan(0);
    // The Next server only starts and reads runs; the app's own `npx stepwise worker` (the
    // package's bin in the app's node_modules, loading ./workflows) executes them.
    const base = await nextStart("webpack", { STEPWISE_WORKER: "0" });
    const worker = spawnNode(
      [join(APP, "node_modules", "stepwise-workflows", "dist", "cli", "index.js"), "worker"],
      APP,
      worldEnv("webpack"),
    );
    servers.push(worker);

    const started = await api(base, "/runs", {
      method: "POST",
      body: JSON.stringify({ workflow: "placeOrder", args: ["order-7", "desk", 1] }),
    });
    expect(started.status, await started.clone().text()).toBe(201);
    const { runId } = (await started.json()) as { runId: string };
    await pollFor("the hook", async () => {
      const hooks = await api(base, `/runs/${runId}/hooks`);
      const body = (await hooks.json()) as { hooks?: unknown[] } | unknown[];
      const list = Array.isArray(body) ? body : (body.hooks ?? []);
      return list.length > 0 ? true : undefined;
    });
    const resumed = await api(base, `/hooks/${encodeURIComponent("approve:order-7")}`, {
      method: "POST",
      body: JSON.stringify({ payload: { approved: true, by: "the test" } }),
    });
    expect(resumed.status, await resumed.clone().text()).toBe(202);
    const run = await pollFor("the run to complete", async () => {
      const current = await runOf(base, runId);
      return current.status === "completed" ? current : undefined;
    });
    expect(run.output).toEqual({ orderId: "order-7", status: "shipped", tracking: "trk-order-7" });
    expect(worker.output.stdout + worker.output.stderr).toContain(runId);

    const stream = await api(base, `/runs/${runId}/streams/default`);
    const lines = (await stream.text())
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { value: unknown }).value);
    expect(lines).toEqual([
      "order order-7 received",
      "reserved 1 × desk",
      "waiting for approval",
      "approved by the test",
      "shipped order-7 from rsv-desk-1",
      "done",
    ]);
  });

  it("a workflow file imported by a client component fails the build (Turbopack and webpack), naming the file", async () => {
    const app = makeClientMisuseApp();
    try {
      for (const args of [[], ["--webpack"]]) {
        const { code, output } = await nextBuildIn(app, args);
        expect(code, output).not.toBe(0);
        expect(output).toContain("workflows/order.ts");
        expect(output).toContain("defines charge(), order() with");
        expect(output).toContain("part of a browser (or edge) bundle");
        expect(output).toContain("Import the file only from server code");
      }
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it("checks its own preconditions", () => {
    expect(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install -y chromium)`).toBe(
      true,
    );
  });
}, 300_000);
