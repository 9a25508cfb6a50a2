/**
 * `npx stepwise web` without STEPWISE_HTTP_SECRET, in a real browser: the URL it prints carries a
 * one-time secret in its fragment; opening it signs in with no form, and the secret leaves the
 * address bar at once (the fragment is never sent to the server, and is not kept in history).
 */
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { pollFor } from "../helpers/e2e.ts";
import { makeProject, REPO, spawnNode } from "../helpers/project.ts";
import { CHROMIUM, CHROMIUM_ARGS, screenshot } from "./harness.ts";

const project = makeProject({});
const web = spawnNode([join(REPO, "dist", "cli", "index.js"), "web"], project.dir, {
  STEPWISE_WORLD: "local",
  STEPWISE_DATA_DIR: ".stepwise",
  STEPWISE_HTTP_SECRET: "",
});

afterAll(async () => {
  if (web.child.exitCode === null) {
    const exited = new Promise((resolve) => web.child.once("exit", resolve));
    web.child.kill("SIGTERM");
    await exited;
  }
  project.remove();
});

describe("stepwise web", () => {
  it("signs in with the one-time secret in its URL's fragment, then drops it from the URL", async () => {
    const printed = await pollFor("the dashboard's URL", async () => {
      if (web.child.exitCode !== null) throw new Error(`stepwise web exited: ${web.output.stderr}`);
      return /the dashboard is at (http:\/\/\S+#secret=\S+)/.exec(web.output.stderr)?.[1];
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(printed);
      await page.locator('[data-testid="runs-table"]').waitFor();
      expect(await page.locator('[data-testid="login-form"]').count()).toBe(0);
      expect(page.url()).not.toContain("secret");
      expect(await page.evaluate("location.hash")).toBe("");
      await screenshot(page, "stepwise-web");
      // Without the fragment (another browser), the form asks for the secret.
      const stranger = await (await browser.newContext()).newPage();
      await stranger.goto(printed.split("#")[0] as string);
      await stranger.locator('[data-testid="login-form"]').waitFor();
    } finally {
      await browser.close();
    }
  });
});
