/**
 * `GET /workflows` (runs by status, p50 / p95 durations of ended runs, language) and
 * `GET /runs/:runId/hooks` (tokens, status, payloads received) and `GET /runs/:runId/streams`
 * (names, lengths, closed) through the real handler on every
 * World (memory, local SQLite, PostgreSQL); an unknown run is a 404.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/client.ts";
import { createHandler, type StepwiseHandler } from "../../src/http/index.ts";
import type { NewEvent } from "../../src/world/events.ts";
import { appendNext, createRun, hookCreated } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { everyWorld, type WorldEnv } from "../helpers/every-world.ts";
import { SECRET } from "./helpers.ts";

const ORDER = "workflow//workflows/order.ts//order";
const REPORT = "workflow//app.reports//report";

const { worlds, stop } = everyWorld("wfstats");
afterAll(stop);

describe.each(Object.keys(worlds) as (keyof typeof worlds)[])(
  "workflows and hooks on the %s World",
  (name) => {
    let env: WorldEnv;
    let world: World;
    let handler: StepwiseHandler;
    const get = (path: string): Promise<Response> =>
      handler(
        new Request(`http://localhost/stepwise${path}`, { headers: { authorization: `Bearer ${SECRET}` } }),
      );

    beforeEach(async () => {
      env = await worlds[name]();
      world = env.world;
      handler = createHandler({ secret: SECRET, client: createClient({ world }) });
    });
    afterEach(async () => {
      await world.close();
      env.cleanup();
    });

    /** A run of `workflowName` that started at `at` and then `end`ed after `ms`. */
    async function ended(
      workflowName: string,
      at: number,
      ms: number,
      end: NewEvent["type"],
    ): Promise<string> {
      const run = await createRun(world, { workflowName, createdAt: at });
      await appendNext(world, run.runId, [{ type: "run_started", data: {}, createdAt: at }]);
      const last = { type: end, data: {}, createdAt: at + ms } as NewEvent;
      await appendNext(world, run.runId, [last]);
      return run.runId;
    }

    it("GET /workflows counts each workflow's runs by status and gives p50 / p95 of ended runs", async () => {
      const base = Date.UTC(2026, 0, 1);
      for (const [index, ms] of [100, 200, 300, 400].entries())
        await ended(ORDER, base + index * 10_000, ms, "run_completed");
      await ended(ORDER, base + 50_000, 1000, "run_failed");
      await createRun(world, { workflowName: ORDER, createdAt: base + 60_000 });
      const running = await createRun(world, { workflowName: ORDER, createdAt: base + 70_000 });
      await appendNext(world, running.runId, [{ type: "run_started", data: {} }]);
      await ended(REPORT, base, 5, "run_cancelled");

      const response = await get("/workflows");
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual([
        {
          workflowName: REPORT,
          language: "python",
          counts: { pending: 0, running: 0, pausing: 0, paused: 0, completed: 0, failed: 0, cancelled: 1 },
          durationMs: null,
          window: { runs: 1, complete: true },
        },
        {
          workflowName: ORDER,
          language: "typescript",
          counts: { pending: 1, running: 1, pausing: 0, paused: 0, completed: 4, failed: 1, cancelled: 0 },
          durationMs: { p50: 300, p95: 1000 },
          window: { runs: 7, complete: true },
        },
      ]);
    });

    it("GET /workflows is an empty list without runs", async () => {
      expect(await (await get("/workflows")).json()).toEqual([]);
    });

    it("GET /runs/:runId/hooks lists the run's hooks with their tokens and payloads received", async () => {
      const run = await createRun(world, { workflowName: ORDER });
      const other = await createRun(world, { workflowName: ORDER });
      await appendNext(world, run.runId, [{ type: "run_started", data: {} }]);
      await appendNext(world, other.runId, [{ type: "run_started", data: {} }]);
      await appendNext(world, run.runId, [
        hookCreated("hook_a", "approve <b>42</b>"),
        hookCreated("hook_b", "wh-1", "webhook"),
      ]);
      await appendNext(world, other.runId, [hookCreated("hook_c", "someone-else")]);
      await appendNext(world, run.runId, [{ type: "hook_received", data: { hookId: "hook_a" } }]);
      await appendNext(world, run.runId, [{ type: "hook_received", data: { hookId: "hook_a" } }]);
      await appendNext(world, run.runId, [{ type: "hook_disposed", data: { hookId: "hook_b" } }]);
      const response = await get(`/runs/${run.runId}/hooks`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual([
        {
          token: "approve <b>42</b>",
          hookId: "hook_a",
          kind: "hook",
          status: "active",
          createdAt: expect.any(String),
          disposedAt: null,
          receivedCount: 2,
        },
        {
          token: "wh-1",
          hookId: "hook_b",
          kind: "webhook",
          status: "disposed",
          createdAt: expect.any(String),
          disposedAt: expect.any(String),
          receivedCount: 0,
        },
      ]);
      const missing = await get("/runs/wrun_nobody/hooks");
      expect(missing.status).toBe(404);
      expect(await missing.text()).not.toContain("someone-else");
    });

    it("GET /runs/:runId/streams lists the streams by name, with their length and whether closed", async () => {
      const run = await createRun(world, { workflowName: ORDER });
      const other = await createRun(world, { workflowName: ORDER });
      expect(await (await get(`/runs/${run.runId}/streams`)).json()).toEqual([]);
      const chunk = new TextEncoder().encode("x");
      await world.streams.write(run.runId, "progress", [chunk, chunk]);
      await world.streams.write(run.runId, "default", [chunk], { close: true });
      await world.streams.write(other.runId, "secret-of-another-run", [chunk]);
      const response = await get(`/runs/${run.runId}/streams`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual([
        { name: "default", length: 1, closed: true },
        { name: "progress", length: 2, closed: false },
      ]);
      const missing = await get("/runs/wrun_nobody/streams");
      expect(missing.status).toBe(404);
      expect(await missing.text()).not.toContain("secret-of-another-run");
    });
  },
);
