/**
 * Conformance: `runs.list` — newest first (ties broken by run id, descending), filtered by status
 * (one or several), workflow name (one or several) and creation time (`createdSince`,
 * `createdBefore`), paged by an opaque cursor, 50 per page by
 * default and at most 1000; an unknown cursor gives an empty page. `runs.workflowNames` lists the
 * distinct workflow names of the stored runs, sorted.
 */
import { describe, expect, it } from "vitest";
import type { ListRunsFilter, RunRecord } from "../types.ts";
import { appendNext, createRun, runInput } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describePagination(t: WorldContext): void {
  describe("runs.list pagination", () => {
    async function collect(filter: ListRunsFilter): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.world.runs.list({ ...filter, ...(cursor === undefined ? {} : { cursor }) });
        ids.push(...page.items.map((run) => run.runId));
        cursor = page.nextCursor;
        pages++;
        if (pages > 1000) throw new Error("pagination does not end");
      } while (cursor !== undefined);
      return { ids, pages };
    }

    /** `count` runs with distinct createdAt from `base` on, returned newest first. */
    async function makeRuns(count: number, workflowName?: string, base = 1_000_000): Promise<RunRecord[]> {
      const runs: RunRecord[] = [];
      for (let index = 0; index < count; index++) {
        const overrides = { createdAt: base + index, ...(workflowName ? { workflowName } : {}) };
        runs.push(await createRun(t.world, overrides));
      }
      return runs.reverse();
    }

    it("pages through all runs newest first, each once", async () => {
      const runs = await makeRuns(7);
      const first = await t.world.runs.list({ limit: 3 });
      expect(first.items.map((run) => run.runId)).toEqual(runs.slice(0, 3).map((run) => run.runId));
      expect(first.nextCursor).toEqual(expect.any(String));
      expect(await collect({ limit: 3 })).toEqual({ ids: runs.map((run) => run.runId), pages: 3 });
    });

    it("the last page has no cursor, also when it is full", async () => {
      await makeRuns(4);
      const first = await t.world.runs.list({ limit: 2 });
      const second = await t.world.runs.list({ limit: 2, cursor: first.nextCursor ?? "" });
      expect(second.items).toHaveLength(2);
      expect(second.nextCursor).toBeUndefined();
      expect((await t.world.runs.list({ limit: 4 })).nextCursor).toBeUndefined();
    });

    it("breaks createdAt ties by run id, descending", async () => {
      const ids = ["wrun_b", "wrun_d", "wrun_a", "wrun_c"];
      for (const runId of ids) await t.world.runs.create(runInput({ runId, createdAt: 5000 }));
      await t.world.runs.create(runInput({ runId: "wrun_0", createdAt: 6000 }));
      expect((await collect({ limit: 2 })).ids).toEqual(["wrun_0", "wrun_d", "wrun_c", "wrun_b", "wrun_a"]);
    });

    it("an unknown cursor gives an empty page", async () => {
      await makeRuns(3);
      const page = await t.world.runs.list({ cursor: "wrun_unknown" });
      expect(page.items).toEqual([]);
      expect(page.nextCursor).toBeUndefined();
    });

    it("filters by status (one or several) and workflow name, across pages", async () => {
      const runs = await makeRuns(9);
      for (const [index, run] of runs.entries()) {
        if (index % 3 === 1) await appendNext(t.world, run.runId, [{ type: "run_started", data: {} }]);
        if (index % 3 === 2) await appendNext(t.world, run.runId, [{ type: "run_cancelled", data: {} }]);
      }
      const others = await makeRuns(2, "other/workflow", 2_000_000);
      const pick = (remainder: number) =>
        runs.filter((_, index) => index % 3 === remainder).map((run) => run.runId);
      expect((await collect({ status: "running", limit: 2 })).ids).toEqual(pick(1));
      expect((await collect({ status: ["pending", "cancelled"], limit: 2 })).ids).toEqual(
        [...others, ...runs]
          .filter((_run, index) => index < 2 || (index - 2) % 3 !== 1)
          .map((run) => run.runId),
      );
      expect((await collect({ workflowName: "other/workflow", limit: 1 })).ids).toEqual(
        others.map((run) => run.runId),
      );
      expect((await collect({ workflowName: "other/workflow", status: "running" })).ids).toEqual([]);
      expect((await collect({ status: [] })).ids).toEqual([]);
    });

    it("filters by several workflow names, across pages, newest first", async () => {
      const alpha = await makeRuns(3, "workflow//a.ts//order", 3_000_000);
      await makeRuns(2, "workflow//b.ts//invoice", 3_000_010);
      const beta = await makeRuns(3, "workflow//b.ts//order", 3_000_020);
      const wanted = [...beta, ...alpha].map((run) => run.runId);
      const names = ["workflow//a.ts//order", "workflow//b.ts//order"];
      expect(await collect({ workflowName: names, limit: 2 })).toEqual({ ids: wanted, pages: 3 });
      expect((await collect({ workflowName: names, status: "pending", limit: 4 })).ids).toEqual(wanted);
      expect((await collect({ workflowName: ["workflow//b.ts//order"] })).ids).toEqual(
        beta.map((run) => run.runId),
      );
      expect((await collect({ workflowName: [] })).ids).toEqual([]);
      expect((await collect({ workflowName: ["workflow//nowhere.ts//x"] })).ids).toEqual([]);
    });

    it("filters by creation time (createdSince inclusive, createdBefore exclusive), across pages", async () => {
      const runs = await makeRuns(10, "workflow//t.ts//timed", 5_000_000); // createdAt 5_000_000 … 5_000_009
      const others = await makeRuns(3, "workflow//t.ts//other", 5_000_003);
      const between = (from: number, to: number) =>
        runs.filter((run) => run.createdAt >= from && run.createdAt < to).map((run) => run.runId);
      const mine = { workflowName: "workflow//t.ts//timed" };
      expect((await collect({ ...mine, createdSince: 5_000_004, limit: 2 })).ids).toEqual(
        between(5_000_004, Number.MAX_SAFE_INTEGER),
      );
      expect((await collect({ ...mine, createdBefore: 5_000_004, limit: 2 })).ids).toEqual(
        between(0, 5_000_004),
      );
      expect(await collect({ ...mine, createdSince: 5_000_002, createdBefore: 5_000_008, limit: 2 })).toEqual(
        { ids: between(5_000_002, 5_000_008), pages: 3 },
      );
      // Without a workflow filter the other runs in the range are listed too, in order.
      const all = [...runs, ...others]
        .filter((run) => run.createdAt >= 5_000_003 && run.createdAt < 5_000_005)
        .sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1))
        .map((run) => run.runId);
      expect((await collect({ createdSince: 5_000_003, createdBefore: 5_000_005, limit: 1 })).ids).toEqual(
        all,
      );
      expect((await collect({ createdSince: 6_000_000 })).ids).toEqual([]);
      expect((await collect({ createdSince: 5_000_005, createdBefore: 5_000_005 })).ids).toEqual([]);
      const paused = await collect({ ...mine, status: "pending", createdBefore: 5_000_001 });
      expect(paused.ids).toEqual(between(0, 5_000_001));
    });

    it("workflowNames lists each stored workflow once, sorted", async () => {
      expect(await t.world.runs.workflowNames()).toEqual([]);
      await makeRuns(3, "workflow//b.ts//order", 4_000_000);
      await makeRuns(2, "workflow//a.ts//order", 4_000_010);
      await makeRuns(1, "workflow//a.ts//invoice", 4_000_020);
      expect(await t.world.runs.workflowNames()).toEqual([
        "workflow//a.ts//invoice",
        "workflow//a.ts//order",
        "workflow//b.ts//order",
      ]);
      // Finished runs count too: the names are those of every stored run.
      const [run] = await makeRuns(1, "workflow//c.ts//done", 4_000_030);
      if (!run) throw new Error("expected a run");
      await appendNext(t.world, run.runId, [{ type: "run_cancelled", data: {} }]);
      expect(await t.world.runs.workflowNames()).toContain("workflow//c.ts//done");
    });

    it("a run whose status changed between pages does not end the listing", async () => {
      const runs = await makeRuns(4);
      const first = await t.world.runs.list({ status: "pending", limit: 2 });
      const last = first.items[1];
      if (!last) throw new Error("expected two runs");
      await appendNext(t.world, last.runId, [{ type: "run_started", data: {} }]);
      const second = await t.world.runs.list({ status: "pending", limit: 2, cursor: first.nextCursor ?? "" });
      expect(second.items.map((run) => run.runId)).toEqual(runs.slice(2).map((run) => run.runId));
    });

    it("returns 50 runs by default and at most 1000", async () => {
      const input = Array.from({ length: 1001 }, (_, index) => runInput({ createdAt: 2_000_000 + index }));
      for (const run of input) await t.world.runs.create(run);
      const page = await t.world.runs.list();
      expect(page.items).toHaveLength(50);
      expect(page.items[0]?.runId).toBe(input[1000]?.runId);
      const big = await t.world.runs.list({ limit: 5000 });
      expect(big.items).toHaveLength(1000);
      const rest = await t.world.runs.list({ limit: 5000, cursor: big.nextCursor ?? "" });
      expect(rest.items.map((run) => run.runId)).toEqual([input[0]?.runId]);
      expect(rest.nextCursor).toBeUndefined();
    });
  });
}
