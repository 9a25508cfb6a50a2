/**
 * examples/agent in real Chromium (Debian's, through playwright-core), against the example's real
 * server process on the local SQLite World: a page reloaded in the middle of an answer resumes the
 * same answer (the mock model streams slowly; it was called once), and a tool that needs approval
 * runs once the user clicks Approve in the chat (after a reload while the run waited). Without Chromium this test fails: it never skips.
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.ts";
import { type ExampleServer, startExampleServer } from "./example-server.ts";
import { waitFor } from "./world-view.ts";

const STORY_START = "Stepwise writes this answer into a durable stream";
const STORY_END = "recorded once in its event log.";

let server: ExampleServer;
let url: string;
let browser: Browser;

beforeAll(async () => {
  server = await startExampleServer(120);
  url = server.url;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.stop();
});

const modelCalls = () => server.log().filter((l) => l.startsWith("model")).length;

async function answerText(page: Page): Promise<string> {
  return (await page.locator("section.assistant p.text").allTextContents()).join(" ");
}

async function ask(page: Page, text: string): Promise<void> {
  await page.fill("#prompt", text);
  await page.click("#send");
}

it("resumes the same answer after a reload in the middle of it", async () => {
  const page = await browser.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  await page.goto(url);
  await ask(page, "Tell me how this works");
  // Some of the answer, not all of it: then reload.
  await waitFor("part of the answer", async () => {
    const text = await answerText(page);
    return text.split(" ").length >= 8 ? text : undefined;
  });
  const before = await answerText(page);
  expect(before.startsWith(STORY_START)).toBe(true);
  expect(before.endsWith(STORY_END)).toBe(false);
  await page.reload();
  // The reloaded page reconnects to the run and shows the same answer, through to its end.
  await page.waitForSelector('#status[data-status="ready"]');
  await waitFor(
    "the whole answer",
    async () => ((await answerText(page)).endsWith(STORY_END) ? true : undefined),
    60_000,
  );
  const after = await answerText(page);
  expect(after.startsWith(before)).toBe(true);
  expect(after.startsWith(STORY_START)).toBe(true);
  expect(modelCalls()).toBe(1);
  await page.close();
}, 120_000);

it("runs a tool that needs approval once the user approves it in the chat, across a reload", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  await page.goto(url);
  const callsBefore = modelCalls();
  await ask(page, "Please refund order 42");
  await page.waitForSelector("button.approve", { timeout: 60_000 });
  expect(server.log().filter((l) => l.startsWith("tool"))).toEqual([]);
  // The run waits for the human: a reload shows the same request again, and answering it works.
  await page.reload();
  await page.waitForSelector("button.approve", { timeout: 60_000 });
  await page.click("button.approve");
  await page.waitForSelector(".tool[data-state=output-available] pre.output", { timeout: 60_000 });
  expect(JSON.parse((await page.textContent("pre.output")) ?? "")).toEqual({ orderId: "42", refunded: 40 });
  await waitFor("the answer to the tool result", async () =>
    (await answerText(page)).includes('Done: {"orderId":"42","refunded":40}.') ? true : undefined,
  );
  expect(server.log().filter((l) => l.startsWith("tool"))).toEqual(["tool refundOrder 42"]);
  expect(modelCalls() - callsBefore).toBe(2);
  // The next message starts a new run with the whole conversation, the approved tool call included.
  await page.waitForSelector('#status[data-status="ready"]');
  await ask(page, "Thanks! How does it work?");
  await waitFor(
    "the next answer",
    async () => ((await answerText(page)).endsWith(STORY_END) ? true : undefined),
    60_000,
  );
  expect(server.log().filter((l) => l.startsWith("tool"))).toEqual(["tool refundOrder 42"]);
  await context.close();
}, 120_000);
