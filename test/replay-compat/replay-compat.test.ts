/**
 * Replay compatibility (STYLE.md point 6): event logs written by earlier versions of Stepwise are
 * committed under `fixtures/` and replayed here by the current runtime. Each fixture is a run that
 * stopped mid-way (waiting on a hook); the test loads its log into a fresh World, resumes the hook,
 * and checks that the run completes with the recorded result, without re-running the steps the log
 * already holds and without a NonDeterminismError.
 *
 * To add fixtures for the current version: `UPDATE_REPLAY_FIXTURES=1 npx vitest run
 * test/replay-compat` writes `fixtures/v<SPEC_VERSION>-order.json`, `-events.json` (a run of
 * the `events` workflow: events sent before and after it waits, two waits of one type at once, a
 * timeout it catches) and `-restart.json` (an order run restarted from its second reserve, which
 * keeps the first reserve's outcome, recorded after the second began) and `-pause.json` (an order
 * run paused while its first step ran, then resumed) and `-upgrade.json` (an order run started on
 * an earlier version of its code and moved to the current one by `upgrade` while it waited on its
 * hook: the fixture carries the bundle it was moved to, which the replay loads from the World when
 * the test's code has changed since) and `-code.json` (an order run whose reserve step was missing
 * from the worker's code for a while: `step_unavailable` in its log); with STEPWISE_ENCRYPTION_KEY set to a throwaway key, their
 * `-encrypted` twins (encrypted runs, with their key). Never edit or delete old ones.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, type Run, resumeHook, sendEvent, shutdown, start } from "../../src/api/index.ts";
import { upgradeRun } from "../../src/ops/upgrade.ts";
import { getPayloadCodec } from "../../src/process/process.ts";
import { DEFAULT_LIMITS } from "../../src/runtime/limits.ts";
import {
  bundleHash,
  getStep,
  getWorkflowBundle,
  registerStep,
  type StepFunction,
  unregisterStep,
  type WorkflowBundle,
} from "../../src/runtime/registry.ts";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { isEncryptedPayload } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import { newId, newRunSeed } from "../../src/util/ids.ts";
import type { EventRecord, NewEvent } from "../../src/world/events.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

interface Fixture {
  specVersion: number;
  workflowName: string;
  runId: string;
  seed: string;
  createdAt: number;
  input: string;
  events: { type: string; data: unknown; payload?: string; createdAt: number }[];
  hookToken: string;
  hookPayload: unknown;
  expected: unknown;
  stepsBeforeResume: number;
  /** The STEPWISE_ENCRYPTION_KEY the fixture was written with (a test key), if it was encrypted. */
  encryptionKey?: string;
  /** Workflow bundles the run is pinned to (spec 5, `run_upgraded`), stored before it replays. */
  bundles?: { hash: string; filename: string; workflowIds: string[]; code: string }[];
}

const executed: string[] = [];
/** While set, the price step waits for it (to pause a run while a step runs). */
let priceGate: Promise<void> | undefined;
const wf = defineWorkflows("test/replay-compat/order.ts", {
  steps: {
    price: async (items: { sku: string; qty: number }[]) => {
      executed.push("price");
      await priceGate;
      return items.reduce((sum, item) => sum + item.qty * 10, 0);
    },
    reserve: async (sku: string) => {
      executed.push(`reserve ${sku}`);
      return `rsv-${sku}`;
    },
    ship: async (reservations: string[], by: string) => {
      executed.push("ship");
      return { shipped: reservations.length, by };
    },
  },
  workflows: {
    order: ({ steps, api }) =>
      async function order(id: string, items: { sku: string; qty: number }[]) {
        const total = await steps.price(items);
        const reservations = await Promise.all(items.map((item) => steps.reserve(item.sku)));
        await api.sleep(1);
        const noise = Math.floor(Math.random() * 1000);
        const approval = await api.createHook<{ by: string }>({ token: `approve-${id}` });
        const shipment = await steps.ship(reservations, approval.by);
        return { id, total, shipment, noise, at: new Date(Date.now()).getFullYear() > 2000 };
      },
    // Spec version 3: every event type of waitForEvent in one log.
    events: ({ steps, api }) =>
      async function events(id: string) {
        const paid = await api.waitForEvent<{ amount: number }>("paid", { timeout: "1h" });
        const [a, b] = await Promise.all([
          api.waitForEvent<string>("item"),
          api.waitForEvent<string>("item"),
        ]);
        let timedOut = false;
        try {
          await api.waitForEvent("never", { timeout: 1 });
        } catch (error) {
          timedOut = api.WaitTimeoutError.is(error);
        }
        const approval = await api.createHook<{ by: string }>({ token: `approve-${id}` });
        const shipment = await steps.ship([a.payload, b.payload], approval.by);
        return { id, paid: paid.payload, sentAt: paid.timestamp.getTime(), timedOut, shipment };
      },
  },
});

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { maxCachedRuns: 0, holdMs: 0 } });
  executed.length = 0;
});
afterEach(async () => {
  await shutdown();
  delete process.env.STEPWISE_ENCRYPTION_KEY;
});

const dir = new URL("./fixtures/", import.meta.url);
const toBase64 = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString("base64");
const fromBase64 = (text: string | undefined) =>
  text === undefined ? undefined : new Uint8Array(Buffer.from(text, "base64"));

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("condition not reached");
}

/** Waits for `run` to reach its hook, records its log as a fixture named `name`, and finishes it. */
async function writeFixture(name: string, run: Run<unknown>, bundles?: Fixture["bundles"]): Promise<void> {
  await until(async () => (await world.hooks.list({ runId: run.runId, status: "active" })).length > 0);
  const record = await world.runs.get(run.runId);
  const events = await world.events.list(run.runId);
  const stepsBeforeResume = executed.length;
  await resumeHook("approve-o-1", { by: "fixture" });
  const expected = await run.returnValue;
  const fixture: Fixture = {
    specVersion: SPEC_VERSION,
    workflowName: record.workflowName,
    runId: record.runId,
    seed: record.seed,
    createdAt: record.createdAt,
    input: toBase64(record.input) as string,
    events: events
      .slice(1)
      .map((e) => ({ type: e.type, data: e.data, payload: toBase64(e.payload), createdAt: e.createdAt })),
    hookToken: "approve-o-1",
    hookPayload: { by: "fixture" },
    expected,
    stepsBeforeResume,
    ...(bundles === undefined ? {} : { bundles }),
  };
  // With a (test) key in the environment, the fixture is an encrypted run and records the key.
  const key = process.env.STEPWISE_ENCRYPTION_KEY;
  const file = key === undefined ? name : `${name}-encrypted`;
  const stored = key === undefined ? fixture : { ...fixture, encryptionKey: key };
  writeFileSync(new URL(`v${SPEC_VERSION}-${file}.json`, dir), `${JSON.stringify(stored, null, 2)}\n`);
}

if (process.env.UPDATE_REPLAY_FIXTURES) {
  it("writes the fixtures for the current version", async () => {
    await writeFixture(
      "order",
      await start(wf.order, [
        "o-1",
        [
          { sku: "tea", qty: 2 },
          { sku: "mug", qty: 1 },
        ],
      ]),
    );
    executed.length = 0;
    const run = await start(wf.events, ["o-1"]);
    // Sent at once: kept until the workflow waits for each (the first may already wait).
    await sendEvent(run.runId, "paid", { amount: 12 });
    await sendEvent(run.runId, "item", "tea");
    await sendEvent(run.runId, "item", "mug");
    await writeFixture("events", run);
    const log = await world.events.list(run.runId);
    for (const type of ["event_wait_created", "event_received", "event_wait_timed_out"]) {
      expect(log.some((event) => event.type === type)).toBe(true);
    }

    // Spec version 4: a restarted run (the order run ended, then restarted from its second reserve).
    executed.length = 0;
    const restarted = await start(wf.order, [
      "o-1",
      [
        { sku: "tea", qty: 2 },
        { sku: "mug", qty: 1 },
      ],
    ]);
    await until(async () => (await world.hooks.list({ runId: restarted.runId })).length > 0);
    await resumeHook("approve-o-1", { by: "first" });
    await restarted.returnValue;
    await restarted.restart({ from: { step: "reserve", occurrence: 2 } });
    executed.length = 0;
    await writeFixture("restart", restarted);
    expect((await world.events.list(restarted.runId)).some((event) => event.type === "run_restarted")).toBe(
      true,
    );

    // Spec version 4: a run paused while its first step ran (pausing, then paused), then resumed.
    executed.length = 0;
    let open = (): void => {};
    priceGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const paused = await start(wf.order, [
      "o-1",
      [
        { sku: "tea", qty: 2 },
        { sku: "mug", qty: 1 },
      ],
    ]);
    await until(async () => executed.includes("price"));
    await paused.pause();
    open();
    priceGate = undefined;
    await until(async () => (await paused.status) === "paused");
    await paused.resume();
    executed.length = 0;
    await writeFixture("pause", paused);
    const types = (await world.events.list(paused.runId)).map((event) => event.type);
    expect(types.filter((type) => type.startsWith("run_pa") || type === "run_resumed")).toEqual([
      "run_pausing",
      "run_paused",
      "run_resumed",
    ]);

    // Spec version 5: a run started on an earlier version of its code (the same calls, another
    // hash), moved to the current one by upgrade while it waited on its hook.
    executed.length = 0;
    const current = getWorkflowBundle(wf.order.workflowId) as WorkflowBundle;
    const earlier = `${current.code}\n// an earlier version\n`;
    const earlierHash = bundleHash(earlier);
    await world.bundles.put({
      hash: earlierHash,
      filename: current.filename,
      workflowIds: [...current.workflowIds],
      code: new TextEncoder().encode(earlier),
    });
    const runId = newId("wrun");
    const encrypted = process.env.STEPWISE_ENCRYPTION_KEY !== undefined;
    const scope = { runId, encrypted, specVersion: SPEC_VERSION };
    const items = [
      { sku: "tea", qty: 2 },
      { sku: "mug", qty: 1 },
    ];
    await world.runs.create({
      runId,
      workflowName: wf.order.workflowId,
      specVersion: SPEC_VERSION,
      seed: newRunSeed(),
      encrypted,
      input: getPayloadCodec().encode(scope, places.runInput, encodeValue(["o-1", items])),
      bundleHash: earlierHash,
    });
    await until(async () => (await world.hooks.list({ runId, status: "active" })).length > 0);
    await until(async () => (await world.runs.get(runId)).lease === undefined);
    const moved = await upgradeRun(
      { world, payloads: getPayloadCodec(), limits: DEFAULT_LIMITS, busyWaitMs: 5_000 },
      runId,
    );
    expect(moved).toMatchObject({ verdict: "upgraded", fromHash: earlierHash, toHash: current.hash });
    executed.length = 0;
    await writeFixture("upgrade", getRun(runId), [
      {
        hash: current.hash,
        filename: current.filename,
        workflowIds: [...current.workflowIds],
        code: current.code,
      },
    ]);
    expect((await world.events.list(runId)).some((event) => event.type === "run_upgraded")).toBe(true);

    // Spec version 5: a run whose reserve step was not in the worker's code for a while (a deploy
    // without it): it waited for code (step_unavailable), and went on once the step was back.
    executed.length = 0;
    const reserveId = wf.stepIds.reserve;
    const reserve = getStep(reserveId) as StepFunction;
    unregisterStep(reserveId);
    const waited = await start(wf.order, ["o-1", items]);
    await until(async () =>
      (await world.events.list(waited.runId)).some((event) => event.type === "step_unavailable"),
    );
    registerStep(reserveId, reserve);
    await until(async () => (await world.hooks.list({ runId: waited.runId, status: "active" })).length > 0);
    executed.length = 0;
    await writeFixture("code", waited);
  });
}

const fixtures = readdirSync(dir).filter((name) => name.endsWith(".json"));

describe("replaying logs written by earlier versions", () => {
  it("has at least one fixture", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  for (const name of fixtures) {
    it(`continues ${name} to its recorded result`, async () => {
      const fixture = JSON.parse(readFileSync(new URL(name, dir), "utf8")) as Fixture;
      if (fixture.encryptionKey !== undefined) process.env.STEPWISE_ENCRYPTION_KEY = fixture.encryptionKey;
      for (const bundle of fixture.bundles ?? []) {
        await world.bundles.put({ ...bundle, code: new TextEncoder().encode(bundle.code) });
      }
      const input = fromBase64(fixture.input) as Uint8Array;
      await world.runs.create({
        runId: fixture.runId,
        workflowName: fixture.workflowName,
        specVersion: fixture.specVersion,
        seed: fixture.seed,
        // Runs from before spec version 2 did not record it: encrypted when their input is
        // (what the Worlds' migrations derive for stored runs).
        encrypted: isEncryptedPayload(input),
        input,
        createdAt: fixture.createdAt,
      });
      let seq = 1;
      for (const event of fixture.events) {
        const stored: NewEvent = {
          type: event.type,
          data: event.data,
          createdAt: event.createdAt,
        } as NewEvent;
        const payload = fromBase64(event.payload);
        if (payload !== undefined) stored.payload = payload;
        seq = (await world.events.append({ runId: fixture.runId, expectedSeq: seq, events: [stored] })).seq;
      }
      // The log now ends where the old version left it: waiting on the hook.
      await resumeHook(fixture.hookToken, fixture.hookPayload);
      const result = await getRun(fixture.runId).returnValue;
      expect(result).toEqual(fixture.expected);
      // Only the step after the hook ran; everything before it came from the log.
      expect(executed).toEqual(["ship"]);
      const log: EventRecord[] = await world.events.list(fixture.runId);
      expect(log.at(-1)?.type).toBe("run_completed");
      if (fixture.encryptionKey !== undefined) {
        // The old payloads were read in their own envelope; the new ones use today's.
        const formats = (events: readonly { payload?: Uint8Array | string }[]) =>
          new Set(
            events.flatMap((event) =>
              event.payload === undefined
                ? []
                : [(typeof event.payload === "string" ? fromBase64(event.payload) : event.payload)?.[0]],
            ),
          );
        const written = fixture.specVersion < 2 ? 0x02 : 0x03;
        expect(formats(fixture.events)).toEqual(new Set([written]));
        expect(formats(log.slice(fixture.events.length + 1))).toEqual(new Set([0x03]));
      }
    });
  }
});
