/**
 * `start(workflow, args, { id })` and `startMany(workflow, items)` on the memory World and on a
 * real SQLite file: runs under ids the application chose behave like any other (they execute,
 * see their id, are found by `getRun`, are encrypted and bound to their id), starting again with
 * the same id is idempotent, another workflow's id is a `RunIdConflictError`, and every refusal
 * (a malformed id, a conflict, arguments that cannot be stored, a batch too large) writes nothing.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, MAX_START_BATCH, shutdown, start, startMany } from "../../src/api/index.ts";
import {
  BatchTooLargeError,
  InvalidRunIdError,
  PayloadTooLargeError,
  SerializationError,
} from "../../src/errors/runtime.ts";
import { ConflictError, RunIdConflictError, RunNotFoundError } from "../../src/errors/world.ts";
import { DEFAULT_LIMITS } from "../../src/runtime/limits.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";
import { snapshotWorld } from "../http/helpers.ts";

const executed: string[] = [];

const wf = defineWorkflows("test/start-ids.ts", {
  steps: {
    greet: async (name: string) => {
      executed.push(name);
      return `hello ${name}`;
    },
  },
  workflows: {
    greeter: ({ api, steps }) =>
      async function greeter(name: string) {
        return { greeting: await steps.greet(name), runId: api.getWorkflowMetadata().runId };
      },
    other: () =>
      async function other() {
        return "other";
      },
  },
});

/** Starts with the World, an error expected: it must be of `kind` and leave the World as it was. */
async function refused<T>(world: World, kind: { is(value: unknown): boolean }, work: () => Promise<T>) {
  const before = await snapshotWorld(world);
  let error: unknown;
  try {
    await work();
  } catch (caught) {
    error = caught;
  }
  expect(error, "expected a refusal").toBeDefined();
  expect(kind.is(error), String(error)).toBe(true);
  expect(await snapshotWorld(world)).toBe(before);
  return error as Error;
}

const worlds: [string, () => { world: World; cleanup(): void }][] = [
  ["memory", () => ({ world: createMemoryWorld(), cleanup: () => {} })],
  [
    "local (SQLite)",
    () => {
      const dataDir = mkdtempSync(join(tmpdir(), "stepwise-ids-"));
      return {
        world: createLocalWorld({ dataDir }),
        cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  ],
];

describe.each(worlds)("runs under ids of your choosing, on the %s World", (_name, make) => {
  let world: World;
  let cleanup: () => void;
  beforeEach(() => {
    ({ world, cleanup } = make());
    configure({ world, worker: { holdMs: 0 } });
    executed.length = 0;
  });
  afterEach(async () => {
    await shutdown();
    cleanup();
  });

  it("a run started with an id runs under it, sees it, and is found by it", async () => {
    const run = await start(wf.greeter, ["ada"], { id: "greet:ada.1" });
    expect(run.runId).toBe("greet:ada.1");
    expect(await run.returnValue).toEqual({ greeting: "hello ada", runId: "greet:ada.1" });
    expect(await getRun("greet:ada.1").status).toBe("completed");
    expect((await world.events.list("greet:ada.1")).map((event) => event.type)).toEqual([
      "run_created",
      "run_started",
      "step_started",
      "step_completed",
      "run_completed",
    ]);
  });

  it("starting again with the same id and workflow returns the existing run and starts nothing", async () => {
    const first = await start(wf.greeter, ["ada"], { id: "signup-42" });
    expect(await first.returnValue).toMatchObject({ greeting: "hello ada" });
    const again = await start(wf.greeter, ["bob"], { id: "signup-42" });
    expect(again.runId).toBe("signup-42");
    expect(await again.returnValue).toMatchObject({ greeting: "hello ada" });
    expect((await world.runs.list()).items.map((run) => run.runId)).toEqual(["signup-42"]);
    expect((await world.events.list("signup-42")).filter((e) => e.type === "run_created")).toHaveLength(1);
    expect(await world.queue.list("signup-42")).toEqual([]);
    expect(executed).toEqual(["ada"]);
  });

  it("concurrent starts with the same id make exactly one run", async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => start(wf.greeter, [`caller-${i}`], { id: "once" })),
    );
    expect(new Set(runs.map((run) => run.runId))).toEqual(new Set(["once"]));
    await runs[0]?.returnValue;
    expect((await world.runs.list()).items).toHaveLength(1);
    expect((await world.events.list("once")).filter((e) => e.type === "run_created")).toHaveLength(1);
    expect(executed).toHaveLength(1);
  });

  it("the same id under another workflow is a RunIdConflictError naming the holder, and writes nothing", async () => {
    await (await start(wf.greeter, ["ada"], { id: "shared-id" })).returnValue;
    const error = await refused(world, RunIdConflictError, () => start(wf.other, [], { id: "shared-id" }));
    expect(ConflictError.is(error)).toBe(true);
    expect(error.message).toContain("workflow//test/start-ids.ts//greeter");
    expect(error.message).toContain("workflow//test/start-ids.ts//other");
    expect(error).toMatchObject({ code: "RUN_ID_CONFLICT", runId: "shared-id" });
  });

  it("refuses malformed ids with InvalidRunIdError saying what is allowed, and writes nothing", async () => {
    const cases: [unknown, string][] = [
      ["", "it is empty"],
      ["has space", 'it holds " " at position 4'],
      ["a/b", 'it holds "/" at position 2'],
      ["café", "it holds U+00E9 at position 4"],
      ["x".repeat(101), "it has 101 characters, more than 100"],
      [".", '"." cannot name a run in a URL path'],
      ["..", '".." cannot name a run in a URL path'],
      ["new\nline", "it holds U+000A at position 4"],
      [42, "it is a number, not a string"],
      [null, "it is null, not a string"],
    ];
    for (const [id, says] of cases) {
      const error = await refused(world, InvalidRunIdError, () =>
        start(wf.greeter, ["ada"], { id } as { id: string }),
      );
      expect(error.message, String(id)).toContain(says);
      expect(error.message).toContain('1 to 100 characters of letters, digits, "_", ".", ":" and "-"');
      expect((error as InvalidRunIdError).code).toBe("INVALID_RUN_ID");
    }
    const options = await refused(world, InvalidRunIdError, () =>
      start(wf.greeter, ["ada"], "order-1" as unknown as { id: string }),
    );
    expect(options.message).toContain("takes its options as an object");
    // The longest and the shortest ids that are allowed.
    expect((await start(wf.greeter, ["ada"], { id: "x".repeat(100) })).runId).toHaveLength(100);
    expect((await start(wf.greeter, ["ada"], { id: "-" })).runId).toBe("-");
  });

  it("startMany starts every item in one batch and returns the handles in order", async () => {
    await (await start(wf.greeter, ["existing"], { id: "batch:existing" })).returnValue;
    const runs = await startMany(wf.greeter, [
      { args: ["ada"], id: "batch:ada" },
      { args: ["bob"] },
      { args: ["ignored"], id: "batch:existing" },
      { args: ["cy"], id: "batch:cy" },
    ]);
    expect(runs.map((run) => run.runId)).toEqual([
      "batch:ada",
      expect.stringMatching(/^wrun_/),
      "batch:existing",
      "batch:cy",
    ]);
    const results = await Promise.all(runs.map((run) => run.returnValue));
    expect(results.map((result) => result.greeting)).toEqual([
      "hello ada",
      "hello bob",
      "hello existing",
      "hello cy",
    ]);
    expect(executed.sort()).toEqual(["ada", "bob", "cy", "existing"]);
    expect(await startMany(wf.greeter, [])).toEqual([]);
  });

  it("startMany is all or nothing: one bad item starts none, and the error names the item", async () => {
    await (await start(wf.other, [], { id: "taken-by-other" })).returnValue;
    const badId = await refused(world, InvalidRunIdError, () =>
      startMany(wf.greeter, [
        { args: ["a"], id: "fine-1" },
        { args: ["b"] },
        { args: ["c"], id: "not fine" },
      ]),
    );
    expect(badId.message).toContain("(item 2 of the batch)");
    const conflict = await refused(world, RunIdConflictError, () =>
      startMany(wf.greeter, [
        { args: ["a"], id: "fine-1" },
        { args: ["b"], id: "taken-by-other" },
        { args: ["c"] },
      ]),
    );
    expect(conflict.message).toContain("taken-by-other");
    const unstorable = await refused(world, SerializationError, () =>
      startMany(wf.greeter, [{ args: ["a"] }, { args: [(() => {}) as unknown as string] }]),
    );
    expect(unstorable.message).toContain("(item 1 of the batch)");
    const notItems = await refused(world, SerializationError, () =>
      startMany(wf.greeter, [["a"]] as unknown as { args: [string] }[]),
    );
    expect(notItems.message).toContain("item 0 is not an object { args, id? }");
    expect(executed).toEqual([]);
  });

  it(`startMany refuses more than ${MAX_START_BATCH} items, and arguments past one payload together`, async () => {
    const many = Array.from({ length: MAX_START_BATCH + 1 }, (_, i) => ({ args: [`n${i}`] as [string] }));
    const error = await refused(world, BatchTooLargeError, () => startMany(wf.greeter, many));
    expect(error.message).toContain(`was given ${MAX_START_BATCH + 1} runs; one batch starts at most 1000`);
    // Each item fits in one payload, together they do not.
    configure({ limits: { ...DEFAULT_LIMITS, maxPayloadBytes: 10_000 } });
    const big = "x".repeat(4_000);
    const heavy = await refused(world, PayloadTooLargeError, () =>
      startMany(wf.greeter, [{ args: [big] }, { args: [big] }, { args: [big] }]),
    );
    expect(heavy.message).toContain("Start them in smaller batches");
    expect((await startMany(wf.greeter, [{ args: [big] }, { args: [big] }])).length).toBe(2);
    configure({ limits: DEFAULT_LIMITS });
  });
});

describe("a run under a chosen id, encrypted", () => {
  let dataDir: string;
  beforeEach(() => {
    process.env.STEPWISE_ENCRYPTION_KEY = randomBytes(32).toString("base64");
    dataDir = mkdtempSync(join(tmpdir(), "stepwise-ids-enc-"));
    configure({ world: createLocalWorld({ dataDir }), worker: { holdMs: 0 } });
  });
  afterEach(async () => {
    await shutdown();
    delete process.env.STEPWISE_ENCRYPTION_KEY;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is encrypted and bound to its id like any other run", async () => {
    const run = await start(wf.greeter, ["S3CR3T-ADA"], { id: "enc:ada" });
    expect(await run.returnValue).toMatchObject({ greeting: "hello S3CR3T-ADA" });
    const { getWorld } = await import("../../src/api/index.ts");
    const world = await getWorld();
    const record = await world.runs.get("enc:ada");
    expect(record.encrypted).toBe(true);
    expect(record.input[0]).toBe(0x03);
    expect(Buffer.from(record.input).includes(Buffer.from("S3CR3T"))).toBe(false);
    // Bound to its run: the same bytes under another id do not decrypt.
    const { getPayloadCodec } = await import("../../src/process/process.ts");
    const { places } = await import("../../src/serde/places.ts");
    const codec = getPayloadCodec();
    expect(codec.decode(record, places.runInput, record.input)).toContain("S3CR3T-ADA");
    expect(() => codec.decode({ ...record, runId: "enc:bob" }, places.runInput, record.input)).toThrow(
      /enc:bob/,
    );
    await expect(getRun("enc:nobody").status).rejects.toSatisfy((e) => RunNotFoundError.is(e));
  });
});
