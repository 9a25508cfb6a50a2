/**
 * Acting on runs from the dashboard, in a real browser over a real server and worker: a hook
 * resumed from the page moves its run on, and Cancel cancels a run (the run API says so too).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, screenshot, signIn, startDashboard } from "./harness.ts";

let dashboard: Dashboard;

beforeAll(async () => {
  dashboard = await startDashboard();
});
afterAll(async () => {
  await dashboard?.close();
});

async function openRun(runId: string) {
  const { page } = await dashboard.newPage();
  await signIn(page, dashboard.url, dashboard.secret);
  await page.goto(`${dashboard.url}/runs/${encodeURIComponent(runId)}`);
  await page.locator(`article.run[data-run-id="${runId}"]`).waitFor();
  return page;
}

describe("run actions", () => {
  it("resumes a hook from the page, and the run moves on", async () => {
    const token = `approve-${Date.now()}`;
    const runId = await dashboard.start("demo", ["hooked", token]);
    const page = await openRun(runId);
    const hook = page.locator(`[data-testid="hooks"] li[data-token="${token}"]`);
    await hook.waitFor({ timeout: 20_000 });
    await hook.locator('textarea[name="payload"]').fill('{"approved": true}');
    await screenshot(page, "run-hook");
    await hook.locator('button[type="submit"]').click();
    await page.locator(".run-header .badge", { hasText: "completed" }).waitFor({ timeout: 20_000 });
    const run = await dashboard.api("GET", `/runs/${encodeURIComponent(runId)}`);
    expect(run.body).toMatchObject({
      status: "completed",
      output: { c: { got: { approved: true } } },
    });
  });

  it("cancels a run from the page", async () => {
    const runId = await dashboard.start("demo", ["cancelled", `never-${Date.now()}`]);
    const page = await openRun(runId);
    await page.locator('[data-testid="timeline"] [data-step="announce"]').waitFor({ timeout: 20_000 });
    await page.locator('[data-testid="run-actions"] button', { hasText: "Cancel" }).click();
    await page.locator(".run-header .badge", { hasText: "cancelled" }).waitFor({ timeout: 20_000 });
    const run = await dashboard.api("GET", `/runs/${encodeURIComponent(runId)}`);
    expect((run.body as { status: string }).status).toBe("cancelled");
    await screenshot(page, "run-cancelled");
  });
});
