/**
 * A webhook's static response is data the workflow chose (it may carry what a step computed), so
 * with STEPWISE_ENCRYPTION_KEY set it is stored encrypted like every other payload, bound to its
 * hook, on a real SQLite file — and the webhook still answers with it, body, status and headers.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, resumeWebhook, shutdown, start } from "../../src/api/index.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const MARK = "S3CR3T-WEBHOOK-RESPONSE";
let world: World;
let dataDir: string;

beforeEach(() => {
  process.env.STEPWISE_ENCRYPTION_KEY = randomBytes(32).toString("base64");
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-webhook-"));
  world = createLocalWorld({ dataDir });
  configure({ world });
});
afterEach(async () => {
  await shutdown();
  delete process.env.STEPWISE_ENCRYPTION_KEY;
  rmSync(dataDir, { recursive: true, force: true });
});

const wf = defineWorkflows("test/webhook-response.ts", {
  steps: {
    secret: async () => MARK,
  },
  workflows: {
    reply: ({ api, steps }) =>
      async function reply() {
        const secret = await steps.secret();
        const webhook = api.createWebhook({
          respondWith: new Response(`receipt ${secret}`, { status: 201, headers: { "x-receipt": secret } }),
        });
        const request = await webhook;
        return request.method;
      },
  },
});

function storedBytes(): Buffer {
  const files = readdirSync(dataDir).filter((name) => name.startsWith("stepwise.db"));
  return Buffer.concat(files.map((name) => readFileSync(join(dataDir, name))));
}

describe("a webhook's static response at rest", () => {
  it("is stored encrypted and still answers every request", async () => {
    const run = await start(wf.reply, []);
    let token = "";
    for (let i = 0; i < 500 && token === ""; i++) {
      token = (await world.hooks.list({ runId: run.runId }))[0]?.token ?? "";
      if (token === "") await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const [hook] = await world.hooks.list({ runId: run.runId });
    expect(hook?.meta).toEqual({ respond: "static", sealed: expect.any(String) });
    expect(JSON.stringify(hook?.meta)).not.toContain(MARK);
    expect(storedBytes().includes(MARK)).toBe(false);

    const response = await resumeWebhook(token, new Request("http://x/hook", { method: "PUT", body: "hi" }));
    expect(response.status).toBe(201);
    expect(response.headers.get("x-receipt")).toBe(MARK);
    expect(await response.text()).toBe(`receipt ${MARK}`);
    expect(await run.returnValue).toBe("PUT");
    expect(storedBytes().includes(MARK)).toBe(false);
  });
});
