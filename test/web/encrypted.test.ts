/**
 * Encrypted payloads in the dashboard (a server and worker with STEPWISE_ENCRYPTION_KEY): a run's
 * payloads are shown as "encrypted" — the page never holds them in clear — until the user asks
 * with a reason; then the server writes its audit record and the page shows them.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, screenshot, signIn, startDashboard, WORKFLOWS } from "./harness.ts";

let dashboard: Dashboard;

beforeAll(async () => {
  dashboard = await startDashboard(WORKFLOWS, {
    STEPWISE_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  });
});
afterAll(async () => {
  await dashboard?.close();
});

describe("encrypted payloads", () => {
  it("are shown as encrypted until decrypted with a reason", async () => {
    const secretLabel = `label-${randomBytes(6).toString("hex")}`;
    const token = `enc-${Date.now()}`;
    const runId = await dashboard.start("demo", [secretLabel, token]);
    const { page } = await dashboard.newPage();
    await signIn(page, dashboard.url, dashboard.secret);
    await page.goto(`${dashboard.url}/runs/${encodeURIComponent(runId)}`);
    const timeline = page.locator('[data-testid="timeline"]');
    await timeline.locator('[data-step="slow"] .step-button').click({ timeout: 20_000 });
    const detail = page.locator('[data-testid="step-detail"]');
    await detail.locator(".encrypted").first().waitFor();
    // Nothing in clear anywhere on the page: not the step's input, not the run's, not the log's.
    await page.locator('[data-testid="events"] tbody tr').first().waitFor();
    expect(await page.locator("body").textContent()).not.toContain(secretLabel);

    await detail.locator("button", { hasText: "Decrypt" }).first().click();
    const form = page.locator('[data-testid="decrypt-form"]');
    await form.locator('input[name="reason"]').fill("checking the dashboard's decrypt flow");
    await form.locator('button[type="submit"]').click();
    await detail.locator("pre", { hasText: `slow ${secretLabel}` }).waitFor();
    await screenshot(page, "decrypted");
    // Hiding the decrypted view goes back to the placeholders.
    await page.locator(".notice button", { hasText: "Hide" }).click();
    await detail.locator(".encrypted").first().waitFor();
    expect(await page.locator("body").textContent()).not.toContain(secretLabel);
  });
});
