/**
 * The dashboard in a real browser, on a real server and worker: the runs list shows a run just
 * started (live, without reload), a run's timeline draws its steps in order with widths that
 * follow their durations, and a step that completes appears without a reload.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollFor } from "../helpers/e2e.ts";
import { type Dashboard, screenshot, signIn, startDashboard } from "./harness.ts";

let dashboard: Dashboard;

beforeAll(async () => {
  dashboard = await startDashboard();
});
afterAll(async () => {
  await dashboard?.close();
});

describe("the runs page", () => {
  it("shows a run just started, live, without a reload", async () => {
    const { page } = await dashboard.newPage();
    await signIn(page, dashboard.url, dashboard.secret);
    // A marker on the window: a reload would lose it.
    await page.evaluate("window.marker = 42");
    const runId = await dashboard.start("demo", ["listed", "token-listed"]);
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor({ timeout: 20_000 });
    await expect(row.locator("td").nth(1).textContent()).resolves.toBe("demo");
    // It moves on to waiting for its hook (running) without a reload either.
    await row.locator(".badge", { hasText: "running" }).waitFor({ timeout: 20_000 });
    expect(await page.evaluate("window.marker")).toBe(42);
    await screenshot(page, "runs-new-run");
  });
});

describe("a run's page", () => {
  it("draws the steps in order, a 300 ms step wider than a 10 ms one, and shows a step completing live", async () => {
    const token = `token-timeline-${Date.now()}`;
    const runId = await dashboard.start("demo", ["timeline", token]);
    const { page, problems } = await dashboard.newPage();
    await signIn(page, dashboard.url, dashboard.secret);
    await page.locator(`tr[data-run-id="${runId}"] a`).click();
    const timeline = page.locator('[data-testid="timeline"]');
    await timeline.locator('[data-step="announce"]').waitFor({ timeout: 20_000 });
    expect(
      await timeline
        .locator("[data-step]")
        .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-step"))),
    ).toEqual(["quick", "slow", "announce"]);
    // Measured in one go: each re-render rescales the chart to "now" while the run waits.
    const [quick = 0, slow = 0] = await timeline.evaluate((chart) =>
      ["quick", "slow"].map(
        (step) =>
          chart.querySelector(`[data-step="${step}"] .bar.attempt`)?.getBoundingClientRect().width ?? 0,
      ),
    );
    expect(slow).toBeGreaterThan(quick);
    // Widths follow the durations the run recorded (the 300 ms step took at least that).
    const { body } = await dashboard.api("GET", `/runs/${runId}/timeline`);
    const took = (step: string) => {
      const found = (
        body as { steps: { name: string; attempts: { startedAt: string; endedAt: string }[] }[] }
      ).steps.find((s) => s.name.endsWith(`//${step}`));
      const attempt = found?.attempts[0];
      return attempt ? Date.parse(attempt.endedAt) - Date.parse(attempt.startedAt) : Number.NaN;
    };
    expect(took("slow")).toBeGreaterThanOrEqual(300);
    const drawn = slow / quick;
    const recorded = took("slow") / took("quick");
    expect(Math.abs(drawn - recorded) / recorded).toBeLessThan(0.25);
    // The step's detail: its input and output, as the run recorded them.
    await timeline.locator('[data-step="slow"] .step-button').click();
    const detail = page.locator('[data-testid="step-detail"]');
    await expect(detail.textContent()).resolves.toContain('"slow timeline"');
    // What the step printed, beside it (step logs), markup as text; and what the workflow printed.
    const stepLogs = detail.locator('[data-testid="step-logs"]');
    await stepLogs.waitFor({ timeout: 20_000 });
    await expect(stepLogs.textContent()).resolves.toContain(
      "log slow step for timeline { markup: '<i>kept as text</i>' }",
    );
    expect(await stepLogs.locator("i").count()).toBe(0);
    await expect(page.locator('[data-testid="workflow-logs"]').textContent()).resolves.toContain(
      "log demo begins timeline",
    );

    // The run's stream, listed by name and read live with one click (the run has not closed
    // it): markup in a chunk stays text.
    await page.locator('[data-testid="stream-list"] button[data-stream="default"]').click();
    const stream = page.locator('[data-testid="stream"]');
    await stream.locator("pre", { hasText: "streamed <b>text</b>" }).waitFor();
    expect(await stream.locator("b").count()).toBe(0);

    await page.evaluate("window.marker = 7");
    // Resumed by someone else: the `after` step appears without a reload.
    const resumed = await dashboard.api("POST", `/hooks/${encodeURIComponent(token)}`, {
      payload: { ok: 1 },
    });
    expect(resumed.status).toBe(202);
    await timeline.locator('[data-step="after"] .bar.outcome-completed').waitFor({ timeout: 20_000 });
    await page.locator(".run-header .badge", { hasText: "completed" }).waitFor({ timeout: 20_000 });
    expect(await page.evaluate("window.marker")).toBe(7);
    // The page ran under the server's CSP without a refusal, and threw nothing.
    expect(problems).toEqual([]);
    await screenshot(page, "run-timeline");
  });
});

describe("the workflows page", () => {
  it("counts each workflow's runs by status", async () => {
    const { page } = await dashboard.newPage();
    await signIn(page, dashboard.url, dashboard.secret);
    await page.locator("nav a", { hasText: "Workflows" }).click();
    const row = page.locator('[data-testid="workflows-table"] tbody tr', { hasText: "demo" });
    await row.waitFor();
    const counts = await dashboard.api("GET", "/runs?workflow=demo&limit=1000");
    const total = (counts.body as { runs: unknown[] }).runs.length;
    const cells = await row.locator("td.num").allTextContents();
    // The seven status columns add up to the workflow's runs.
    expect(cells.slice(0, 7).reduce((sum, cell) => sum + Number(cell), 0)).toBe(total);
    await screenshot(page, "workflows");
  });
});

describe("the runs page's filters", () => {
  it("finds a run by its hook token, and filters by status", async () => {
    const token = `find-me-${Date.now()}`;
    const runId = await dashboard.start("demo", ["found", token]);
    await pollFor("the run to wait on its hook", async () => {
      const hooks = await dashboard.api("GET", `/runs/${runId}/hooks`);
      return (hooks.body as unknown[]).length > 0 ? true : undefined;
    });
    const { page } = await dashboard.newPage();
    await signIn(page, dashboard.url, dashboard.secret);
    const rows = page.locator('[data-testid="runs-table"] tbody tr');
    await page.locator('input[name="q"]').fill(token);
    await page.locator(".filters .search button").click();
    await page.waitForURL(/[?&]q=find-me-/);
    await pollFor("only the run that owns the token", async () => {
      const shown = await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-run-id")));
      return shown.length === 1 && shown[0] === runId ? true : undefined;
    });

    await page.locator('input[name="q"]').fill("");
    await page.locator(".filters .search button").click();
    await page.locator('.statuses input[value="running"]').check();
    await page.waitForURL(/[?&]status=running/);
    const expected = (
      (await dashboard.api("GET", "/runs?status=running&limit=1000")).body as { runs: { runId: string }[] }
    ).runs.map((run) => run.runId);
    expect(expected).toContain(runId);
    await pollFor("the running runs only", async () => {
      const shown = await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-run-id")));
      return JSON.stringify(shown) === JSON.stringify(expected) ? true : undefined;
    });
    expect(await rows.locator(".badge").allTextContents()).toEqual(expected.map(() => "running"));

    // A time range in the future holds no run; back to any time, they are there again.
    await page.locator('select[name="range"]').selectOption("custom");
    await page.locator('input[name="since"]').fill("2099-01-01T00:00");
    await page.waitForURL(/[?&]since=2099-/);
    await page.locator(".empty", { hasText: "No runs match" }).waitFor();
    await page.locator('select[name="range"]').selectOption("");
    await rows.first().waitFor();
    expect(page.url()).not.toContain("since=");
    await page.locator('.statuses input[value="running"]').uncheck();
    await expect.poll(() => rows.count()).toBe(3);
    await screenshot(page, "runs");
  });
});
