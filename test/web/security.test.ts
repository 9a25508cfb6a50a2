/**
 * The dashboard's guard rails in a real browser: a wrong secret is refused (no session cookie),
 * markup in a step's name, a payload and a hook token is shown as text (no dialog opens, no
 * element is injected), and an unknown run id or path shows the 404 page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, screenshot, signIn, startDashboard, WORKFLOWS } from "./harness.ts";

// The step's file path is part of its name (step//<file>//<function>): markup there is markup in the step name.
const HOSTILE_FILE = 'workflows/<script>alert("name")<marquee>.ts';
const PAYLOAD = `<script>alert("payload")</script><img src=x onerror=alert("img")>`;
const TOKEN = `<script>alert("token")</script><marquee>t</marquee>`;

let dashboard: Dashboard;

beforeAll(async () => {
  dashboard = await startDashboard({
    ...WORKFLOWS,
    [HOSTILE_FILE]: `
import { createHook } from "stepwise-workflows";
async function echo(text: string) {
  "use step";
  return text;
}
export async function hostile(text: string, token: string) {
  "use workflow";
  const echoed = await echo(text);
  const payload = await createHook<unknown>({ token });
  return { echoed, payload };
}
`,
  });
});
afterAll(async () => {
  await dashboard?.close();
});

describe("signing in", () => {
  it("refuses a wrong secret and sets no cookie", async () => {
    const { page, context } = await dashboard.newPage();
    await page.goto(`${dashboard.url}/`);
    const form = page.locator('[data-testid="login-form"]');
    await form.locator('input[name="secret"]').fill(`${dashboard.secret}-wrong`);
    await form.locator('button[type="submit"]').click();
    await form.locator('[role="alert"]', { hasText: "refused" }).waitFor();
    expect(await context.cookies()).toEqual([]);
    expect(await page.locator('[data-testid="runs-table"]').count()).toBe(0);
    await screenshot(page, "login-refused");
    // The right one signs in; signing out brings the form back.
    await signIn(page, dashboard.url, dashboard.secret);
    expect((await context.cookies()).map((cookie) => cookie.name)).toContain("stepwise_session");
    await page.locator("button", { hasText: "Sign out" }).click();
    await form.waitFor();
  });
});

describe("text from runs", () => {
  it("shows markup in a step name, a payload and a hook token as text", async () => {
    const runId = await dashboard.start(`${HOSTILE_FILE}//hostile`, [PAYLOAD, TOKEN]);
    const { page, dialogs } = await dashboard.newPage();
    await signIn(page, dashboard.url, dashboard.secret);
    await page.goto(`${dashboard.url}/runs/${encodeURIComponent(runId)}`);
    await page.locator(`[data-testid="hooks"] li`).first().waitFor({ timeout: 20_000 });
    await page.locator('[data-testid="timeline"] [data-step="echo"] .step-button').click();
    const detail = page.locator('[data-testid="step-detail"]');
    await expect(detail.textContent()).resolves.toContain(PAYLOAD.replaceAll('"', '\\"'));
    await expect(detail.textContent()).resolves.toContain('<script>alert("name")<marquee>.ts//echo');
    await expect(page.locator('[data-testid="hooks"] .token').first().textContent()).resolves.toBe(TOKEN);
    await screenshot(page, "hostile-text");
    expect(dialogs).toEqual([]);
    const injected = await page.evaluate(`({
      marquees: document.querySelectorAll("marquee").length,
      images: document.querySelectorAll("img").length,
      inlineScripts: [...document.querySelectorAll("script")].filter((script) => !script.src).length,
    })`);
    expect(injected).toEqual({ marquees: 0, images: 0, inlineScripts: 0 });
  });
});

describe("not found", () => {
  it("shows the 404 page for an unknown run id and an unknown path", async () => {
    const { page } = await dashboard.newPage();
    await signIn(page, dashboard.url, dashboard.secret);
    await page.goto(`${dashboard.url}/runs/wrun_does_not_exist`);
    await page.locator('[data-testid="not-found"]', { hasText: "wrun_does_not_exist" }).waitFor();
    await screenshot(page, "not-found");
    await page.goto(`${dashboard.url}/no/such/page`);
    await page.locator('[data-testid="not-found"]').waitFor();
  });
});
