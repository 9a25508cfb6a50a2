/**
 * Acting on runs from the dashboard, in a real browser over a real server and worker: a hook
 * resumed from the page moves its run on, Cancel cancels a run (the run API says so too), and an
 * event sent from the page reaches the run's `waitForEvent` — after the timeline has drawn its
 * retried step with the retry delay, its sleep and its event wait.
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

  it("draws a retry, its delay, a sleep and an event wait, and sends the event from the page", async () => {
    const runId = await dashboard.start("patient", []);
    const page = await openRun(runId);
    const timeline = page.locator('[data-testid="timeline"]');
    await timeline.locator(".row-wait", { hasText: "event go" }).waitFor({ timeout: 20_000 });
    const flaky = timeline.locator('[data-step="flaky"]');
    await expect(flaky.locator(".bar.attempt").count()).resolves.toBe(2);
    await expect(flaky.locator(".bar.outcome-retrying").count()).resolves.toBe(1);
    await expect(flaky.locator(".bar.outcome-completed").count()).resolves.toBe(1);
    // The retry delay is drawn after the failed attempt, up to the next one. Measured in one go: each re-render rescales the chart to "now" while the run waits.
    const [retried, delay, next] = await flaky.evaluate((row) =>
      [".bar.outcome-retrying", ".bar.delay", ".bar.outcome-completed"].map((bar) => {
        const box = row.querySelector(bar)?.getBoundingClientRect();
        return box ? { x: box.x, width: box.width } : undefined;
      }),
    );
    if (!retried || !delay || !next) throw new Error("the flaky step's bars are not all drawn");
    // Failed attempt, then the delay (from its end: a short bar may be drawn at its 2 px minimum
    // width, past its end), then the next attempt, once the delay is over.
    expect(delay.x).toBeGreaterThanOrEqual(retried.x);
    expect(delay.width).toBeGreaterThan(retried.width);
    expect(next.x).toBeGreaterThanOrEqual(delay.x + delay.width - 0.5);
    await timeline.locator(".row-wait .bar.wait-sleep").waitFor();
    await screenshot(page, "run-retry-sleep-event");

    await page.locator(".send-event summary").click();
    const form = page.locator(".send-event form");
    await form.locator('input[name="type"]').fill("go");
    await form.locator('textarea[name="payload"]').fill('{"from": "the dashboard"}');
    await form.locator('button[type="submit"]').click();
    await page.locator(".run-header .badge", { hasText: "completed" }).waitFor({ timeout: 20_000 });
    const run = await dashboard.api("GET", `/runs/${encodeURIComponent(runId)}`);
    expect(run.body).toMatchObject({
      status: "completed",
      output: { attempts: 2, payload: { from: "the dashboard" } },
    });
  });

  it("pauses and resumes a run, and restarts it from a chosen step", async () => {
    const token = `again-${Date.now()}`;
    const runId = await dashboard.start("demo", ["again", token]);
    const page = await openRun(runId);
    const status = page.locator(".run-header .badge");
    await page.locator(`[data-testid="hooks"] li[data-token="${token}"]`).waitFor({ timeout: 20_000 });
    const actions = page.locator('[data-testid="run-actions"]');
    await actions.locator("button", { hasText: "Pause" }).click();
    await status.filter({ hasText: "paused" }).waitFor({ timeout: 20_000 });
    await actions.locator("button", { hasText: "Resume" }).click();
    await status.filter({ hasText: "running" }).waitFor({ timeout: 20_000 });

    const resumed = await dashboard.api("POST", `/hooks/${encodeURIComponent(token)}`, { payload: 1 });
    expect(resumed.status).toBe(202);
    await status.filter({ hasText: "completed" }).waitFor({ timeout: 20_000 });
    await actions.locator('select[name="from"]').selectOption({ label: "from step slow" });
    await actions.locator("button", { hasText: "Restart" }).click();
    // The second generation runs again from `slow`: a generation line is drawn, and `slow` has a
    // row of its own in it (its calls are new), while `quick` ran once.
    await status.filter({ hasText: "running" }).waitFor({ timeout: 20_000 });
    const timeline = page.locator('[data-testid="timeline"]');
    await timeline.locator(".generation").first().waitFor({ timeout: 20_000 });
    await expect.poll(() => timeline.locator('[data-step="slow"]').count(), { timeout: 20_000 }).toBe(2);
    expect(await timeline.locator('[data-step="quick"]').count()).toBe(1);
    await screenshot(page, "run-restarted");
  });
});
