/**
 * `examples/sveltekit` (SvelteKit with adapter-node, `sveltekit()` and `stepwise()` in vite.config),
 * real processes driven in Chromium: built with `vite build` and served by `node build` (the
 * adapter's standalone server), then through Vite's dev server (`vite dev`), the form action starts
 * the workflow, the page shows the progress read from the run's durable stream, the button resumes
 * the hook, the run completes. And a throwaway SvelteKit app whose component script, or whose
 * browser code under src/lib/client, defines a workflow fails `vite build`, naming the file. Needs
 * `npm run build` (the example installs this checkout's `dist/` into its node_modules, as `npm
 * install` would) and Chromium at /usr/bin/chromium (or STEPWISE_CHROMIUM): without it the test
 * fails, it does not skip.
 */
import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.ts";
import { pollFor } from "../helpers/e2e.ts";
import { REPO, runNode, spawnNode } from "../helpers/project.ts";

const APP = join(REPO, "examples", "sveltekit");
const VITE = join(REPO, "node_modules", "vite", "bin", "vite.js");
const SECRET = randomBytes(24).toString("hex");

let dir: string;
const servers: ReturnType<typeof spawnNode>[] = [];
let browser: Browser | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-sveltekit-"));
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

const worldEnv = (name: string) => ({
  STEPWISE_WORLD: "local",
  STEPWISE_DATA_DIR: join(dir, `data-${name}`),
  STEPWISE_CACHE_DIR: join(dir, "cache"),
  STEPWISE_HTTP_SECRET: SECRET,
});

/** `vite build` in `cwd`: its exit code and output (stdout, then stderr). */
async function viteBuildIn(cwd: string): Promise<{ code: number | null; output: string }> {
  const build = spawnNode([VITE, "build"], cwd, worldEnv("build"));
  const code = await build.exited;
  return { code, output: build.output.stdout + build.output.stderr };
}

/** A free TCP port on 127.0.0.1 (Vite's dev server is given one, with --strictPort). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Starts a server process and resolves with the URL it prints (`pattern`'s first group). */
async function serve(args: string[], env: Record<string, string>, pattern: RegExp): Promise<string> {
  // Vite colours its URL line when CI is set (picocolors does), which the pattern would not match.
  const server = spawnNode(args, APP, { NO_COLOR: "1", ...env });
  servers.push(server);
  return pollFor(
    "the server's URL",
    async () => {
      if (server.child.exitCode !== null)
        throw new Error(`${args.join(" ")} exited: ${server.output.stderr}`);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal colour codes.
      const plain = server.output.stdout.replace(/\u001b\[[0-9;]*m/g, "");
      return pattern.exec(plain)?.[1]?.replace(/\/$/, "");
    },
    60_000,
  );
}

const api = (base: string, path: string): Promise<Response> =>
  fetch(`${base}/stepwise${path}`, { headers: { authorization: `Bearer ${SECRET}` } });

async function runOf(base: string, runId: string): Promise<{ status: string; output?: unknown }> {
  const response = await api(base, `/runs/${encodeURIComponent(runId)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; output?: unknown };
}

/** Places an order in the browser, approves it from the run's page, sees the run complete: its id. */
async function orderCompletes(base: string, orderId: string): Promise<string> {
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(base);
    await page.fill('input[name="orderId"]', orderId);
    await page.fill('input[name="item"]', "lamp");
    await page.fill('input[name="quantity"]', "3");
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/runs\/wrun_/, { timeout: 60_000 });
    const runId = decodeURIComponent(new URL(page.url()).pathname.split("/")[2] ?? "");

    const progress = page.locator("#progress li");
    await progress.filter({ hasText: "waiting for approval" }).waitFor({ timeout: 60_000 });
    expect(await progress.allTextContents()).toEqual([
      `order ${orderId} received`,
      "reserved 3 × lamp",
      "waiting for approval",
    ]);
    expect((await runOf(base, runId)).status).toBe("running");

    await page.click("#approve:not([disabled])");
    await page.locator("#ended").waitFor({ timeout: 60_000 });
    expect(await progress.allTextContents()).toEqual([
      `order ${orderId} received`,
      "reserved 3 × lamp",
      "waiting for approval",
      "approved by the example page",
      `shipped ${orderId} from rsv-lamp-3`,
      "done",
    ]);
    const run = await pollFor("the run to complete", async () => {
      const current = await runOf(base, runId);
      return current.status === "completed" ? current : undefined;
    });
    expect(run.output).toEqual({ orderId, status: "shipped", tracking: `trk-${orderId}` });
    return runId;
  } finally {
    await context.close();
  }
}

/** The built server's files that carry an inlined sandbox bundle. */
function filesWithInlinedBundles(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (
      entry.isFile() &&
      entry.name.endsWith(".js") &&
      readFileSync(path, "utf8").includes("registerWorkflowBundleInline")
    )
      found.push(path);
  }
  return found;
}

/**
 * A throwaway SvelteKit app inside the repository (where @sveltejs/kit resolves) with `files`, and
 * stepwise-workflows installed in its node_modules (a link to the example's copy).
 */
function makeMisuseApp(files: Record<string, string>): string {
  const app = mkdtempSync(join(REPO, "test", "e2e", ".tmp-sveltekit-"));
  const all: Record<string, string> = {
    "package.json": JSON.stringify({ name: "misuse", private: true, type: "module" }),
    "svelte.config.js":
      'import adapter from "@sveltejs/adapter-node";\nexport default { kit: { adapter: adapter() } };',
    "vite.config.js": [
      'import { sveltekit } from "@sveltejs/kit/vite";',
      'import { stepwise } from "stepwise-workflows/vite";',
      "export default { plugins: [sveltekit(), stepwise()] };",
    ].join("\n"),
    "src/app.html": "<!doctype html><html><head>%sveltekit.head%</head><body>%sveltekit.body%</body></html>",
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(app, path)), { recursive: true });
    writeFileSync(join(app, path), `${content}\n`);
  }
  mkdirSync(join(app, "node_modules"));
  symlinkSync(
    join(APP, "node_modules", "stepwise-workflows"),
    join(app, "node_modules", "stepwise-workflows"),
  );
  return app;
}

describe("examples/sveltekit", () => {
  it("built (vite build, node build): the form action starts a run, the page follows its stream, the button resumes its hook", async () => {
    const { code, output } = await viteBuildIn(APP);
    expect(code, output).toBe(0);
    // The workflow's module is compiled (bundle inlined) and stepwise-workflows stays external.
    const compiled = filesWithInlinedBundles(join(APP, "build", "server"));
    expect(compiled.length).toBe(1);
    expect(readFileSync(compiled[0] ?? "", "utf8")).toMatch(/from ['"]stepwise-workflows\/internal['"]/);
    // ORIGIN: adapter-node cannot tell http from https, and SvelteKit refuses form posts from
    // another origin; a deployment sets it too (docs/frameworks.md).
    const port = await freePort();
    const base = await serve(
      [join(APP, "build")],
      { ...worldEnv("built"), HOST: "127.0.0.1", PORT: String(port), ORIGIN: `http://127.0.0.1:${port}` },
      /Listening on (http:\/\/\S+)/,
    );
    await orderCompletes(base, "order-42");
  });

  it("built, with the worker beside the server (STEPWISE_WORKER=0 and npx stepwise worker src/lib/server/order.ts)", async () => {
    const { code, output } = await viteBuildIn(APP);
    expect(code, output).toBe(0);
    const port = await freePort();
    const base = await serve(
      [join(APP, "build")],
      {
        ...worldEnv("beside"),
        STEPWISE_WORKER: "0",
        HOST: "127.0.0.1",
        PORT: String(port),
        ORIGIN: `http://127.0.0.1:${port}`,
      },
      /Listening on (http:\/\/\S+)/,
    );
    // The server only starts runs and reads them; the app's own worker (the package's bin in its
    // node_modules, compiling the workflow file from source) executes them: the same workflow ids
    // and sandbox bundle as the Vite build's.
    const worker = spawnNode(
      [
        join(APP, "node_modules", "stepwise-workflows", "dist", "cli", "index.js"),
        "worker",
        "src/lib/server/order.ts",
      ],
      APP,
      worldEnv("beside"),
    );
    servers.push(worker);
    const runId = await orderCompletes(base, "order-9");
    // The worker says (on stderr) that it drove the run to completion.
    expect(worker.output.stderr).toContain(`${runId} placeOrder: completed`);
  });

  it("dev (vite dev): the same flow, the workflow compiled on the fly", async () => {
    const port = await freePort();
    const base = await serve(
      [VITE, "dev", "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
      worldEnv("dev"),
      /Local:\s+(http:\/\/\S+)/,
    );
    await orderCompletes(base, "order-7");
  });

  it("a workflow in a component's script, or in browser code under src/lib/client, fails vite build naming the file", async () => {
    const component = makeMisuseApp({
      "src/routes/+page.svelte": [
        "<script>",
        "  async function order() {",
        '    "use workflow";',
        "    return 1;",
        "  }",
        "</script>",
        "<button onclick={order}>go</button>",
      ].join("\n"),
    });
    const client = makeMisuseApp({
      "src/lib/client/order.ts": 'export async function order() {\n  "use workflow";\n  return 1;\n}',
      "src/routes/+page.svelte": [
        "<script>",
        '  import { order } from "$lib/client/order";',
        "</script>",
        "<button onclick={order}>go</button>",
      ].join("\n"),
    });
    try {
      const inComponent = await viteBuildIn(component);
      expect(inComponent.code, inComponent.output).not.toBe(0);
      expect(inComponent.output).toContain("src/routes/+page.svelte:3:5");
      expect(inComponent.output).toContain("This Svelte component defines order()");

      const inClient = await viteBuildIn(client);
      expect(inClient.code, inClient.output).not.toBe(0);
      expect(inClient.output).toContain("src/lib/client/order.ts:2:3");
      expect(inClient.output).toContain("part of a browser (or edge) bundle");
    } finally {
      rmSync(component, { recursive: true, force: true });
      rmSync(client, { recursive: true, force: true });
    }
  });
}, 300_000);
