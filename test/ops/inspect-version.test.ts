/**
 * `inspect runs` shows each run's version (the first 12 hex characters of the hash of the workflow
 * bundle it replays with; `-` for a run older than pinning) and `inspect runs <id>` the whole hash;
 * both in `--json` (`version`, null for none). It follows the run through an upgrade.
 */
import { describe, expect, it } from "vitest";
import { inspect } from "../../src/ops/inspect.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { appendNext, createRun } from "../../src/world/testing/fixtures.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";

const codec = createPayloadCodec();
const a = `abcdef012345${"6".repeat(52)}`;
const b = `fedcba987654${"3".repeat(52)}`;

describe("inspect runs: the VERSION column", () => {
  it("shows each run's version, short in the table and whole for one run, and after an upgrade the new one", async () => {
    const world = createMemoryWorld();
    const pinned = await createRun(world, { runId: "wrun_pinned", bundleHash: a, createdAt: 2 });
    await createRun(world, { runId: "wrun_old", createdAt: 1 });

    const table = await inspect(world, codec, "runs");
    const [header, first, second] = table.table.split("\n");
    expect(header).toMatch(/\bversion\b/i);
    expect(first).toContain("wrun_pinned");
    expect(first).toContain("abcdef012345");
    expect(first).not.toContain(a.slice(0, 13));
    expect(second).toContain("wrun_old");
    expect(second?.trim().endsWith("-")).toBe(true);
    expect(table.rows.map((row) => row.version)).toEqual([a, null]);

    const one = await inspect(world, codec, "runs", { id: pinned.runId });
    expect(one.table).toMatch(new RegExp(`^version\\s+${a}$`, "m"));
    expect(one.rows[0]?.version).toBe(a);
    const old = await inspect(world, codec, "runs", { id: "wrun_old" });
    expect(old.table).toMatch(/^version\s+- \(started before runs were pinned to their code\)$/m);

    await appendNext(world, pinned.runId, [{ type: "run_upgraded", data: { fromHash: a, toHash: b } }]);
    const after = await inspect(world, codec, "runs");
    expect(after.table.split("\n")[1]).toContain("fedcba987654");
    expect(after.rows[0]?.version).toBe(b);
    // The log shows the move with both versions, short unless --ids.
    const events = await inspect(world, codec, "events", { id: pinned.runId });
    expect(events.table).toMatch(/run_upgraded .*fromHash=abcdef012345 toHash=fedcba987654$/m);
    const full = await inspect(world, codec, "events", { id: pinned.runId, ids: true });
    expect(full.table).toContain(`fromHash=${a}`);
  });
});
