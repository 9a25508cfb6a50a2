/**
 * `inspect runs --workflow <name>` pages through ALL runs of the workflows with that short name,
 * on the server: before, it filtered the newest 1,000 runs in the CLI (older runs of the workflow
 * were never shown) and gave no cursor to go on. Also: event times are ISO (no raw epoch ms), and
 * names are short unless `ids`. On the local World, with real SQLite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspect } from "../../src/ops/inspect.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { appendNext, createRun, startedRun } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

const codec = createPayloadCodec();
let dir: string;
let world: World;
const orders: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-inspect-filter-"));
  world = createLocalWorld({ dataDir: dir });
  // Five old runs of `order` in two files, then 1,200 newer runs of another workflow.
  for (let i = 0; i < 5; i++) {
    const file = i % 2 === 0 ? "workflows/a.ts" : "workflows/b.ts";
    orders.push(
      (await createRun(world, { workflowName: `workflow//${file}//order`, createdAt: 1_000 + i })).runId,
    );
  }
  for (let i = 0; i < 1200; i++)
    await createRun(world, { workflowName: "workflow//workflows/c.ts//invoice", createdAt: 10_000 + i });
  orders.reverse();
});
afterAll(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("inspect runs --workflow", () => {
  it("finds every run of the short name, past the newest 1,000, a page at a time", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await inspect(world, codec, "runs", {
        workflow: "order",
        limit: 2,
        ...(cursor === undefined ? {} : { cursor }),
      });
      seen.push(...page.rows.map((row) => String(row.runId)));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(seen).toEqual(orders);
    expect(pages).toBe(3);
  });

  it("takes a file-qualified name or a full id, and says which workflows have runs when none match", async () => {
    const a = await inspect(world, codec, "runs", { workflow: "workflows/a.ts//order" });
    expect(a.rows).toHaveLength(3);
    const full = await inspect(world, codec, "runs", { workflow: "workflow//workflows/b.ts//order" });
    expect(full.rows).toHaveLength(2);
    const none = await inspect(world, codec, "runs", { workflow: "ordr" });
    expect(none.rows).toEqual([]);
    expect(none.table).toBe('No runs of a workflow named "ordr". Workflows with runs: invoice, order.');
  });
});

describe("inspect events and steps", () => {
  it("shows times as ISO and names short (full with ids), in tables and JSON", async () => {
    const run = await startedRun(world, { workflowName: "workflow//workflows/x.ts//napper" });
    const resumeAt = Date.UTC(2031, 5, 1, 12, 0, 0);
    await appendNext(world, run.runId, [
      {
        type: "step_started",
        data: { stepId: "step_1", stepName: "step//workflows/x.ts//charge", attempt: 1 },
      },
      { type: "step_retrying", data: { stepId: "step_1", attempt: 1, retryAt: resumeAt } },
      { type: "wait_created", data: { waitId: "wait_1", resumeAt } },
    ]);
    const events = await inspect(world, codec, "events", { id: run.runId });
    expect(events.table).not.toMatch(/At=\d{10,}/);
    expect(events.table).toContain("resumeAt=2031-06-01T12:00:00.000Z");
    expect(events.table).toContain("retryAt=2031-06-01T12:00:00.000Z");
    expect(events.table).toContain("stepName=charge ");
    expect(events.rows.at(-1)).toMatchObject({ data: { resumeAt: "2031-06-01T12:00:00.000Z" } });
    const full = await inspect(world, codec, "events", { id: run.runId, ids: true });
    expect(full.table).toContain("stepName=step//workflows/x.ts//charge");
    const steps = await inspect(world, codec, "steps", { id: run.runId });
    expect(steps.table).toMatch(/charge\s+retrying\s+1\s+\S+\s+retry at 2031-06-01T12:00:00Z/);
  });
});
