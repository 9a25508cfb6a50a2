/**
 * `GET /runs/:runId/timeline`, `GET /runs/:runId/events` and `POST /runs/:runId/decrypt` through
 * the real handler on every World (memory, local SQLite, PostgreSQL), with real runs driven by the
 * in-process worker: every attempt of a retried step with its outcome and retry time, the sleep,
 * hook and event waits, the event log paged; encrypted payloads shown as `{ encrypted: true }`
 * until the decrypt route, which writes its audit records first; unknown runs 404, bad queries 400.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, resumeHook, sendEvent, shutdown, start } from "../../src/api/index.ts";
import { createClient } from "../../src/client/client.ts";
import { createHandler, type StepwiseHandler } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { everyWorld, until, type WorldEnv } from "../helpers/every-world.ts";
import { dash } from "./dashboard-workflows.ts";
import { SECRET } from "./helpers.ts";

const { worlds, stop } = everyWorld("timeline");
afterAll(stop);

interface Attempt {
  attempt: number;
  generation: number;
  startedAt: string;
  endedAt: string | null;
  outcome: string;
  retryAt: string | null;
  error?: { name: string; message: string; stack?: string } | { encrypted: true };
}
interface TimelineBody {
  run: Record<string, unknown>;
  generations: { generation: number; startedAt: string; fromStep?: string }[];
  steps: {
    stepId: string;
    name: string;
    attempts: Attempt[];
    input?: unknown;
    output?: unknown;
    error?: unknown;
  }[];
  waits: {
    kind: string;
    name: string;
    id: string;
    startedAt: string;
    endedAt: string | null;
    token?: string;
    outcome: string;
  }[];
  children: unknown[];
}
interface EventsBody {
  events: {
    seq: number;
    type: string;
    at: string;
    generation: number;
    payload?: unknown;
    [key: string]: unknown;
  }[];
  nextCursor: string | null;
}

describe.each(Object.keys(worlds) as (keyof typeof worlds)[])(
  "the run's timeline on the %s World",
  (name) => {
    let env: WorldEnv;
    let world: World;
    let handler: StepwiseHandler;
    const savedKey = process.env.STEPWISE_ENCRYPTION_KEY;

    const call = (path: string, init: RequestInit = {}): Promise<Response> =>
      handler(
        new Request(`http://localhost/stepwise${path}`, {
          ...init,
          headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json", ...init.headers },
        }),
      );
    const json = async <T>(path: string, init?: RequestInit): Promise<T> => {
      const response = await call(path, init);
      expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
      return (await response.json()) as T;
    };

    /** Runs the story to its end: flaky (3 attempts), sleep, hook, event, double. */
    async function story(tag: string): Promise<string> {
      // The flaky step counts its tries per key in this process: one key per World and test.
      const key = `${name}-${tag}`;
      const token = `dash-${key}-${randomBytes(4).toString("hex")}`;
      const run = await start(dash.story, [key, token]);
      await until(
        "the hook",
        async () => (await world.hooks.list({ runId: run.runId, status: "active" })).length > 0,
      );
      await resumeHook(token, { approved: true });
      await until("the event wait", async () =>
        (await world.waits.list({ runId: run.runId })).some((wait) => wait.kind === "event"),
      );
      await sendEvent(run.runId, "dash.go", { go: 1 });
      await getRun(run.runId).returnValue;
      return run.runId;
    }

    async function setUp(key?: string): Promise<void> {
      if (key === undefined) delete process.env.STEPWISE_ENCRYPTION_KEY;
      else process.env.STEPWISE_ENCRYPTION_KEY = key;
      env = await worlds[name]();
      world = env.world;
      configure({ world, worker: { holdMs: 0 } });
      handler = createHandler({ secret: SECRET });
    }
    beforeEach(() => undefined);
    afterEach(async () => {
      await shutdown();
      await world.close().catch(() => undefined);
      env.cleanup();
      if (savedKey === undefined) delete process.env.STEPWISE_ENCRYPTION_KEY;
      else process.env.STEPWISE_ENCRYPTION_KEY = savedKey;
    });

    it("shows every attempt, the waits and the outcome, in order, with payloads as JSON", async () => {
      await setUp();
      const runId = await story("plain");
      const timeline = await json<TimelineBody>(`/runs/${runId}/timeline`);
      expect(timeline.run).toMatchObject({
        runId,
        status: "completed",
        language: "typescript",
        encrypted: false,
        input: [`${name}-plain`, expect.stringMatching(/-plain-/)],
        output: { approval: { approved: true }, event: { go: 1 }, doubled: 6 },
      });
      expect(timeline.generations).toEqual([{ generation: 1, startedAt: expect.any(String) }]);
      expect(timeline.steps.map((step) => step.name)).toEqual([
        "step//test/http/dashboard-workflows.ts//flaky",
        "step//test/http/dashboard-workflows.ts//double",
      ]);
      const [flaky, double] = timeline.steps;
      expect(flaky?.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
        [1, "retrying"],
        [2, "retrying"],
        [3, "completed"],
      ]);
      for (const attempt of flaky?.attempts ?? []) {
        expect(Date.parse(attempt.endedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(attempt.startedAt));
      }
      const [first, second, third] = flaky?.attempts ?? [];
      expect(first?.error).toMatchObject({
        name: "Error",
        message: "flaky failure 1",
        stack: expect.stringContaining("flaky failure 1"),
      });
      expect(Date.parse(first?.retryAt ?? "")).toBeGreaterThan(Date.parse(first?.endedAt ?? ""));
      expect(Date.parse(second?.startedAt ?? "")).toBeGreaterThanOrEqual(
        Date.parse(first?.retryAt ?? "") - 5,
      );
      expect(third?.retryAt).toBeNull();
      expect(flaky).toMatchObject({
        input: [`${name}-plain`],
        output: { key: `${name}-plain`, tries: 3, at: "1970-01-01T00:00:00.000Z" },
      });
      expect(double).toMatchObject({
        input: [3],
        output: 6,
        attempts: [{ attempt: 1, outcome: "completed" }],
      });
      expect(timeline.waits.map((wait) => [wait.kind, wait.name, wait.outcome])).toEqual([
        ["sleep", "sleep", "completed"],
        ["hook", "hook", "completed"],
        ["event", "dash.go", "completed"],
      ]);
      expect(timeline.waits[1]?.token).toMatch(/-plain-/);
      // Steps and waits in the order they happened.
      const times = [
        flaky?.attempts[2]?.endedAt,
        ...timeline.waits.flatMap((wait) => [wait.startedAt, wait.endedAt]),
        double?.attempts[0]?.startedAt,
      ].map((at) => Date.parse(at ?? ""));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(timeline.children).toEqual([]);
    });

    it("shows a step that failed for good with its stack, and the run's error", async () => {
      await setUp();
      const run = await start(dash.broken, ["<script>alert(1)</script>"]);
      await until("the run to fail", async () => (await world.runs.get(run.runId)).status === "failed");
      const timeline = await json<TimelineBody>(`/runs/${run.runId}/timeline`);
      expect(timeline.steps[0]?.attempts).toEqual([
        expect.objectContaining({
          attempt: 1,
          outcome: "failed",
          error: expect.objectContaining({ name: "FatalError" }),
        }),
      ]);
      expect(timeline.steps[0]?.error).toMatchObject({
        message: "exploded: <script>alert(1)</script>",
        stack: expect.stringContaining("exploded"),
      });
      expect(timeline.run).toMatchObject({ status: "failed", error: { name: "FatalError" } });
    });

    it("pages the event log with generations, ISO times and payloads, never the seed", async () => {
      await setUp();
      const runId = await story("log");
      const whole = await json<EventsBody>(`/runs/${runId}/events?limit=1000`);
      expect(whole.nextCursor).toBeNull();
      expect(whole.events[0]).toMatchObject({
        seq: 1,
        type: "run_created",
        generation: 1,
        payload: [`${name}-log`, expect.any(String)],
      });
      expect(whole.events[0]).not.toHaveProperty("seed");
      expect(whole.events.map((event) => event.seq)).toEqual(whole.events.map((_, index) => index + 1));
      const retrying = whole.events.find((event) => event.type === "step_retrying");
      expect(retrying).toMatchObject({
        attempt: 1,
        retryAt: expect.stringMatching(/Z$/),
        payload: { message: "flaky failure 1" },
      });
      // What the attempt printed is read at /logs: here only how much, never the sealed bytes.
      expect((retrying as Record<string, unknown> | undefined)?.logs).toEqual({ lines: 1 });
      const paged: number[] = [];
      let cursor: string | null = null;
      do {
        const page: EventsBody = await json<EventsBody>(
          `/runs/${runId}/events?limit=4${cursor === null ? "" : `&cursor=${cursor}`}`,
        );
        paged.push(...page.events.map((event) => event.seq));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(paged).toEqual(whole.events.map((event) => event.seq));
    });

    it("shows encrypted payloads as encrypted; decrypt writes the audit record first, then answers them", async () => {
      await setUp(randomBytes(32).toString("base64"));
      const runId = await story("secret");
      const timeline = await json<TimelineBody>(`/runs/${runId}/timeline`);
      expect(timeline.run).toMatchObject({
        encrypted: true,
        input: { encrypted: true },
        output: { encrypted: true },
      });
      expect(timeline.steps[0]).toMatchObject({ input: { encrypted: true }, output: { encrypted: true } });
      expect(timeline.steps[0]?.attempts[0]?.error).toEqual({ encrypted: true });
      const events = await json<EventsBody>(`/runs/${runId}/events?limit=3`);
      expect(events.events[0]?.payload).toEqual({ encrypted: true });
      expect((await world.audit.list({ runId })).items).toEqual([]);

      const missing = await call(`/runs/${runId}/decrypt`, { method: "POST", body: JSON.stringify({}) });
      expect(missing.status).toBe(400);
      expect((await world.audit.list({ runId })).items).toEqual([]);

      const decrypted = await json<{
        timeline: TimelineBody;
        events: EventsBody;
        audit: { auditId: string; reason: string; action: string; runIds: string[] };
        auditOutcome: { refersTo: string; outcome: string };
      }>(`/runs/${runId}/decrypt`, {
        method: "POST",
        body: JSON.stringify({ reason: "ticket 42", limit: 3 }),
      });
      expect(decrypted.timeline.run).toMatchObject({
        input: [`${name}-secret`, expect.any(String)],
        output: { doubled: 6 },
      });
      expect(decrypted.timeline.steps[0]?.attempts[0]?.error).toMatchObject({ message: "flaky failure 1" });
      expect(decrypted.events.events[0]?.payload).toEqual([`${name}-secret`, expect.any(String)]);
      expect(decrypted.events.nextCursor).toBe("3");
      expect(decrypted.audit).toMatchObject({ action: "decrypt", reason: "ticket 42", runIds: [runId] });
      expect(decrypted.auditOutcome).toMatchObject({
        refersTo: decrypted.audit.auditId,
        outcome: "succeeded",
      });
      const trail = (await world.audit.list({ runId })).items;
      expect(trail.map((entry) => entry.auditId).sort()).toEqual(
        [decrypted.audit.auditId, (decrypted.auditOutcome as unknown as { auditId: string }).auditId].sort(),
      );

      // A server without the key refuses (409), and records nothing.
      delete process.env.STEPWISE_ENCRYPTION_KEY;
      const keyless = createHandler({ secret: SECRET, client: createClient({ world }) });
      const refused = await keyless(
        new Request(`http://localhost/stepwise/runs/${runId}/decrypt`, {
          method: "POST",
          headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
          body: JSON.stringify({ reason: "no key" }),
        }),
      );
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({
        error: {
          code: "ENCRYPTION_KEY_NOT_SET",
          message: expect.stringContaining("STEPWISE_ENCRYPTION_KEY"),
        },
      });
      expect((await world.audit.list({ runId })).items).toHaveLength(2);
    });

    it("answers 404 for an unknown run on every route (recording nothing), 400 for a bad query", async () => {
      await setUp();
      const runId = await story("other");
      for (const [path, init] of [
        ["/runs/wrun_nobody/timeline", {}],
        ["/runs/wrun_nobody/events", {}],
        ["/runs/wrun_nobody/decrypt", { method: "POST", body: JSON.stringify({ reason: "x" }) }],
      ] as const) {
        const response = await call(path, init);
        expect(response.status, path).toBe(404);
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("RUN_NOT_FOUND");
        expect(JSON.stringify(body)).not.toContain(runId);
      }
      expect((await world.audit.list()).items).toEqual([]);
      for (const [query, parameter] of [
        ["limit=0", "limit"],
        ["limit=1001", "limit"],
        ["cursor=abc", "cursor"],
        ["cursor=1&cursor=2", "cursor"],
        ["page=2", "page"],
      ]) {
        const response = await call(`/runs/${runId}/events?${query}`);
        expect(response.status, query).toBe(400);
        expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
          parameter,
        );
      }
    });
  },
);
