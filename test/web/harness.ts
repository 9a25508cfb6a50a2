/**
 * What the dashboard's browser tests share: a throwaway project with real workflows, a real
 * `node dist/cli/index.js server` over a SQLite World (serving the dashboard at `/` and the run
 * API under `/stepwise`), a real `stepwise worker` that reaches it over the worker protocol, and
 * Debian's Chromium driven by playwright-core. Without /usr/bin/chromium the tests FAIL (never
 * skip): `.ci/run` installs it. Each test saves a screenshot into a temp directory;
 * `UPDATE_SCREENSHOTS=1` writes them to docs/screenshots/ instead. (Loads `dist/`: `npm run
 * build` first, which builds the dashboard too.)
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.ts";
import { pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REPO, spawnNode } from "../helpers/project.ts";

export { CHROMIUM, CHROMIUM_ARGS };

const CLI = join(REPO, "dist", "cli", "index.js");

/** The workflows the tests run: short and long steps, a hook, a stream, a retry, a sleep, an event. */
export const WORKFLOWS: Record<string, string> = {
  "workflows/patient.ts": `
import { getStepMetadata, RetryableError, sleep, waitForEvent } from "stepwise-workflows";
async function flaky() {
  "use step";
  const { attempt } = getStepMetadata();
  if (attempt < 2) throw new RetryableError("not yet", { retryAfter: 300 });
  return attempt;
}
export async function patient() {
  "use workflow";
  const attempts = await flaky();
  await sleep("300ms");
  const event = await waitForEvent<unknown>("go");
  return { attempts, payload: event.payload };
}
`,
  "workflows/demo.ts": `
import { createHook, getWritable } from "stepwise-workflows";
async function quick(label: string) {
  "use step";
  await new Promise((resolve) => setTimeout(resolve, 10));
  return "quick " + label;
}
async function slow(label: string) {
  "use step";
  console.log("slow step for", label, { markup: "<i>kept as text</i>" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return "slow " + label;
}
async function announce(label: string) {
  "use step";
  const writer = getWritable().getWriter();
  await writer.write({ label, line: "streamed <b>text</b>" });
  writer.releaseLock();
  return label;
}
async function after(payload: unknown) {
  "use step";
  return { got: payload };
}
export async function demo(label: string, token: string) {
  "use workflow";
  console.log("demo begins", label);
  const a = await quick(label);
  const b = await slow(label);
  await announce(label);
  const payload = await createHook<unknown>({ token });
  const c = await after(payload);
  return { a, b, c };
}
`,
};

export interface Dashboard {
  url: string;
  secret: string;
  project: Project;
  browser: Browser;
  /**
   * A fresh browser context (no cookies) and its page. Every dialog it opens is recorded, and so
   * are its uncaught exceptions and Content-Security-Policy refusals (`problems`).
   */
  newPage(): Promise<{ context: BrowserContext; page: Page; dialogs: string[]; problems: string[] }>;
  /** A run API call with the bearer secret (the test's own view, not the page's). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Starts `workflow` with `args` through the run API; returns its run id. */
  start(workflow: string, args: unknown[], id?: string): Promise<string>;
  /** Stops the browser, the worker and the server, and removes the project. */
  close(): Promise<void>;
}

/** Starts the project, the server, a worker and Chromium. */
export async function startDashboard(
  files: Record<string, string> = WORKFLOWS,
  /** More environment for the server and the worker (e.g. STEPWISE_ENCRYPTION_KEY). */
  env: Record<string, string> = {},
): Promise<Dashboard> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The dashboard's browser tests need Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set STEPWISE_CHROMIUM.`,
    );
  }
  if (!existsSync(join(REPO, "dist", "web", "index.html"))) {
    throw new Error("The dashboard is not built (dist/web/index.html is missing): run npm run build first.");
  }
  const secret = randomBytes(24).toString("hex");
  const project = makeProject(files);
  const children: ReturnType<typeof spawnNode>[] = [];
  const server = spawnNode([CLI, "server", "--port", "0"], project.dir, {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: ".stepwise",
    STEPWISE_HTTP_SECRET: secret,
    ...env,
  });
  children.push(server);
  const url = await pollFor("the server's startup line", async () => {
    const match = /listening on (http:\/\/[^ \n]+)/.exec(server.output.stderr);
    if (match) return match[1] as string;
    if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
    return undefined;
  });
  const worker = spawnNode(
    [CLI, "worker", ...Object.keys(files).filter((path) => path.startsWith("workflows/")), "--quiet"],
    project.dir,
    { STEPWISE_WORLD: url, STEPWISE_HTTP_SECRET: secret, STEPWISE_DATA_DIR: "/nonexistent-remote", ...env },
  );
  children.push(worker);
  const api: Dashboard["api"] = async (method, path, body) => {
    const response = await fetch(`${url}/stepwise${path}`, {
      method,
      headers: {
        authorization: `Bearer ${secret}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : (JSON.parse(text) as unknown) };
  };
  // The worker registered its workflows with the server once the run API can start them by name.
  await pollFor(
    "the worker to register its workflows",
    async () => {
      if (worker.child.exitCode !== null) throw new Error(`the worker exited: ${worker.output.stderr}`);
      const health = (await (await fetch(`${url}/health`)).json()) as { workers?: number };
      return (health.workers ?? 0) > 0 ? true : undefined;
    },
    30_000,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  return {
    url,
    secret,
    project,
    browser,
    api,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      contexts.push(context);
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
      page.on("console", (message) => {
        if (/Content.Security.Policy/i.test(message.text())) problems.push(message.text());
      });
      return { context, page, dialogs, problems };
    },
    async start(workflow, args, id) {
      const answer = await api("POST", "/runs", { workflow, args, ...(id ? { id } : {}) });
      if (answer.status !== 201)
        throw new Error(`starting ${workflow}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return (answer.body as { runId: string }).runId;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      for (const child of children.reverse()) {
        if (child.child.exitCode !== null) continue;
        const exited = new Promise((resolve) => child.child.once("exit", resolve));
        child.child.kill("SIGTERM");
        const timer = setTimeout(() => child.child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      project.remove();
    },
  };
}

/** Signs in through the login form with `secret` and waits for the runs table. */
export async function signIn(page: Page, url: string, secret: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.locator('[data-testid="login-form"] input[name="secret"]').fill(secret);
  await page.locator('[data-testid="login-form"] button[type="submit"]').click();
  await page.locator('[data-testid="runs-table"]').waitFor();
}

const shots = mkdtempSync(join(tmpdir(), "stepwise-screenshots-"));

/** Saves a screenshot named `name` (docs/screenshots/<name>.png with UPDATE_SCREENSHOTS=1). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = process.env.UPDATE_SCREENSHOTS === "1" ? join(REPO, "docs", "screenshots") : shots;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
