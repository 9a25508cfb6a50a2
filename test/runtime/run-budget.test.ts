/**
 * The per-run size limit covers everything stored for a run, and a payload that cannot be stored
 * is refused before anyone is told it was (issue 10, item 3), on a real SQLite file: hook payloads
 * past the limit are refused at `resumeHook` (and over HTTP with 413), never acknowledged and then
 * dropped; stream chunks count toward the run's total; a step's result is checked against the
 * total including the chunks its run has written.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, resumeHook, shutdown, start } from "../../src/api/index.ts";
import { PayloadTooLargeError, WorkflowRunCancelledError } from "../../src/errors/runtime.ts";
import { createHandler } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const MB = 1024 * 1024;
let world: World;
let dataDir: string;
const warnings: string[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-budget-"));
  world = createLocalWorld({ dataDir });
  warnings.length = 0;
  configure({
    world,
    limits: { maxPayloadBytes: 512 * 1024, maxRunBytes: MB },
    worker: { warn: (message) => warnings.push(message) },
  });
});
afterEach(async () => {
  await shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});

const wf = defineWorkflows("test/run-budget.ts", {
  steps: {
    chunks: async (count: number, size: number) => {
      const { getWritable } = await import("../../src/index.ts");
      const writer = getWritable<string>().getWriter();
      let written = 0;
      try {
        for (; written < count; written++) await writer.write("c".repeat(size));
        return { written, error: null };
      } catch (error) {
        return { written, error: `${(error as Error).name}: ${(error as Error).message}` };
      }
    },
    big: async (size: number) => "r".repeat(size),
  },
  workflows: {
    listen: ({ api }) =>
      async function listen(token: string) {
        const hook = api.createHook<{ i: number; pad: string }>({ token });
        const seen: number[] = [];
        for await (const payload of hook) seen.push(payload.i);
        return seen.length;
      },
    stream: ({ steps }) =>
      async function stream(count: number, size: number) {
        return await steps.chunks(count, size);
      },
    streamThenResult: ({ steps }) =>
      async function streamThenResult() {
        const wrote = await steps.chunks(300, 2_000);
        try {
          await steps.big(500_000);
          return { wrote, result: "stored" };
        } catch (error) {
          return { wrote, result: `${(error as Error).name}: ${(error as Error).message}` };
        }
      },
  },
});

async function hookReady(token: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await world.hooks.list({ status: "active" })).some((hook) => hook.token === token)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`hook ${token} never appeared`);
}

describe("hook payloads past the run's limit", () => {
  it("2,001 resumes of 1 KB: each acknowledged one is delivered, the rest refused with PayloadTooLargeError", async () => {
    const run = await start(wf.listen, ["storm"]);
    await hookReady("storm");
    let accepted = 0;
    const refusals: Error[] = [];
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < 2_001) {
        const i = next++;
        try {
          await resumeHook("storm", { i, pad: "p".repeat(1_000) });
          accepted += 1;
        } catch (error) {
          refusals.push(error as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, sender));
    expect(accepted + refusals.length).toBe(2_001);
    expect(accepted).toBeGreaterThan(900);
    expect(refusals.length).toBeGreaterThan(900);
    for (const error of refusals) expect(PayloadTooLargeError.is(error)).toBe(true);
    expect(refusals[0]?.message).toMatch(
      new RegExp(
        `^The payload for hook storm was not delivered: A payload for its inbox \\(1\\.\\d KB\\) would take run ${run.runId} to .*, over the 1\\.0 MB limit per run\\. Nothing was stored\\.`,
      ),
    );

    // Every acknowledged payload is recorded, exactly once; none waits or was dropped.
    for (let i = 0; i < 1_000; i++) {
      if ((await world.inbox.list(run.runId)).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await world.inbox.list(run.runId)).toEqual([]);
    const received = (await world.events.list(run.runId)).filter((event) => event.type === "hook_received");
    expect(received).toHaveLength(accepted);
    expect(new Set(received.map((event) => event.data.inboxId)).size).toBe(accepted);
    const record = await world.runs.get(run.runId);
    expect(record.status).toBe("running");
    expect(record.payloadBytes).toBeLessThanOrEqual(MB);
    expect(warnings.filter((message) => message.includes("dropped"))).toEqual([]);
    // The run is whole: it can still be cancelled (a cancellation stores no payload).
    await getRun(run.runId).cancel();
    await expect(getRun(run.runId).returnValue).rejects.toThrow(WorkflowRunCancelledError);
  }, 120_000);

  it("over HTTP, a resume past the run's limit is a 413 and is not delivered", async () => {
    const run = await start(wf.listen, ["http-storm"]);
    await hookReady("http-storm");
    const handler = createHandler({ secret: "s3cret-for-tests-0123456789abcdefgh" });
    const send = (i: number) =>
      handler(
        new Request(`http://x/stepwise/hooks/${encodeURIComponent("http-storm")}`, {
          method: "POST",
          headers: {
            authorization: "Bearer s3cret-for-tests-0123456789abcdefgh",
            "content-type": "application/json",
          },
          body: JSON.stringify({ payload: { i, pad: "p".repeat(30_000) } }),
        }),
      );
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const response = await send(i);
      statuses.push(response.status);
      if (i === 0 && response.status >= 300) throw new Error(await response.text());
    }
    const accepted = statuses.filter((status) => status < 300).length;
    expect(accepted).toBeGreaterThan(20);
    expect(statuses.slice(accepted).every((status) => status === 413)).toBe(true);
    const refused = await send(99);
    expect(refused.status).toBe(413);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(body.error.message).toContain("limit per run");
    for (let i = 0; i < 500 && (await world.inbox.list(run.runId)).length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const received = (await world.events.list(run.runId)).filter((event) => event.type === "hook_received");
    expect(received).toHaveLength(accepted);
  }, 60_000);
});

describe("stream chunks count toward the run's limit", () => {
  it("3,000 chunks of 2 KB in a 1 MB run: the writes past the limit are refused and nothing past it is stored", async () => {
    const run = await start(wf.stream, [3_000, 2_000]);
    const result = (await run.returnValue) as { written: number; error: string | null };
    expect(result.written).toBeGreaterThan(400);
    expect(result.written).toBeLessThan(3_000);
    expect(result.error).toMatch(
      /^PayloadTooLargeError: A write to stream "default" \(.*\) would take run .* over the 1\.0 MB limit per run/,
    );
    const stored = await world.streams.read(run.runId, "default", { limit: 1_000 });
    expect(stored.chunks).toHaveLength(result.written);
    const total = (await world.runs.get(run.runId)).payloadBytes;
    const chunkBytes = stored.chunks[0]?.data.length ?? 0;
    // Full: the chunks fill the run up to the last one that fits.
    expect(total).toBeLessThanOrEqual(MB);
    expect(total + chunkBytes).toBeGreaterThan(MB - 2_000);
  }, 60_000);

  it("a step's result is checked against the run's total, the chunks its run wrote included", async () => {
    const run = await start(wf.streamThenResult, []);
    const result = (await run.returnValue) as { wrote: { written: number }; result: string };
    expect(result.wrote.written).toBe(300);
    // 300 chunks of ~2 KB are ~600 KB: a 500 KB result would take the run past 1 MB.
    expect(result.result).toMatch(
      /^PayloadTooLargeError: The result of step .*big .* would take run .* over the 1\.0 MB limit per run/,
    );
    expect((await world.runs.get(run.runId)).payloadBytes).toBeLessThanOrEqual(MB);
  }, 60_000);
});
