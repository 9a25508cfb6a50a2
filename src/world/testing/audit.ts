/**
 * Conformance: the audit trail. `record` stores an entry with an id (`audit_…`) and the World's
 * time and returns it; entries come back exactly as given (actor, action, resource, run ids in
 * order, an optional reason, and for an outcome entry what it refers to, the outcome and its
 * detail), newest first with ties broken by id, filtered by run, paged by cursor like `runs.list`,
 * as copies the caller cannot change; nothing else writes or removes them.
 */
import { describe, expect, it } from "vitest";
import { ConflictError } from "../../errors/world.ts";
import type { AuditEntry, ListAuditFilter, NewAuditEntry } from "../types.ts";
import { createRun, expectReject } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

const actor = { user: "ada", host: "build-01", pid: 4242 };

function entry(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return { actor: { ...actor }, action: "decrypt", resource: "runs", runIds: ["wrun_a"], ...overrides };
}

export function describeAudit(t: WorldContext): void {
  describe("audit", () => {
    async function collect(filter: ListAuditFilter): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.world.audit.list({ ...filter, ...(cursor === undefined ? {} : { cursor }) });
        ids.push(...page.items.map((item) => item.auditId));
        cursor = page.nextCursor;
        pages++;
        if (pages > 100) throw new Error("audit pagination does not end");
      } while (cursor !== undefined);
      return { ids, pages };
    }

    it("record stores the entry with an id and the World's time, and returns it", async () => {
      const recorded = await t.world.audit.record(
        entry({ runIds: ["wrun_b", "wrun_a", "wrun_b"], reason: "incident 42: why did order 7 fail? é😀" }),
      );
      expect(recorded.auditId).toMatch(/^audit_[0-9A-HJKMNP-TV-Z]{26}$/);
      t.expectTime(recorded.at, t.now());
      expect(recorded).toEqual({
        auditId: recorded.auditId,
        at: recorded.at,
        actor,
        action: "decrypt",
        resource: "runs",
        runIds: ["wrun_b", "wrun_a", "wrun_b"],
        reason: "incident 42: why did order 7 fail? é😀",
      });
      expect(await t.world.audit.list()).toEqual({ items: [recorded] });
    });

    it("an entry without a reason has no reason property; empty run lists are kept", async () => {
      const recorded = await t.world.audit.record(entry({ runIds: [] }));
      expect("reason" in recorded).toBe(false);
      const [listed] = (await t.world.audit.list()).items;
      expect(listed).toEqual(recorded);
      expect("reason" in (listed as AuditEntry)).toBe(false);
      expect(listed?.runIds).toEqual([]);
    });

    it("an outcome entry keeps what it refers to, the outcome and its detail; others have none", async () => {
      const attempt = await t.world.audit.record(entry({ runIds: ["wrun_a"], reason: "ticket 9" }));
      expect("refersTo" in attempt || "outcome" in attempt || "detail" in attempt).toBe(false);
      const failed = await t.world.audit.record(
        entry({
          runIds: ["wrun_a"],
          refersTo: attempt.auditId,
          outcome: "failed",
          detail: "PayloadDecryptionError (PAYLOAD_DECRYPTION): key id 0011223344556677 é😀",
        }),
      );
      expect(failed).toEqual({
        auditId: failed.auditId,
        at: failed.at,
        actor,
        action: "decrypt",
        resource: "runs",
        runIds: ["wrun_a"],
        refersTo: attempt.auditId,
        outcome: "failed",
        detail: "PayloadDecryptionError (PAYLOAD_DECRYPTION): key id 0011223344556677 é😀",
      });
      const succeeded = await t.world.audit.record(
        entry({ runIds: ["wrun_a"], refersTo: "audit_01UNKNOWN0000000000000000", outcome: "succeeded" }),
      );
      expect("detail" in succeeded).toBe(false);
      expect((await t.world.audit.list({ runId: "wrun_a" })).items).toEqual([succeeded, failed, attempt]);
    });

    it("run ids need not name existing runs, and an existing run changes nothing", async () => {
      const run = await createRun(t.world);
      await t.world.audit.record(entry({ runIds: [run.runId, "wrun_gone"] }));
      expect((await t.world.audit.list({ runId: "wrun_gone" })).items).toHaveLength(1);
      expect((await t.world.audit.list({ runId: run.runId })).items).toHaveLength(1);
    });

    it("lists newest first, ties (same time) by id descending", async () => {
      const first = await t.world.audit.record(entry({ resource: "runs" }));
      const second = await t.world.audit.record(entry({ resource: "steps" }));
      await t.advance(10);
      const third = await t.world.audit.record(entry({ resource: "events" }));
      const ids = (await t.world.audit.list()).items.map((item) => item.auditId);
      expect(ids).toEqual([third.auditId, second.auditId, first.auditId]);
      expect(second.auditId > first.auditId).toBe(true);
    });

    it("filters by run id", async () => {
      const a = await t.world.audit.record(entry({ runIds: ["wrun_a"] }));
      await t.world.audit.record(entry({ runIds: ["wrun_b"] }));
      const both = await t.world.audit.record(entry({ runIds: ["wrun_b", "wrun_a"] }));
      const forA = (await t.world.audit.list({ runId: "wrun_a" })).items.map((item) => item.auditId);
      expect(forA).toEqual([both.auditId, a.auditId]);
      expect((await t.world.audit.list({ runId: "wrun_c" })).items).toEqual([]);
      // A run id is matched whole, not as a prefix or a substring.
      expect((await t.world.audit.list({ runId: "wrun_" })).items).toEqual([]);
    });

    it("pages with limit and cursor, each entry once; the last page has no cursor", async () => {
      const recorded: string[] = [];
      for (let index = 0; index < 7; index++) {
        recorded.push((await t.world.audit.record(entry({ runIds: [`wrun_${index % 2}`] }))).auditId);
        if (index % 3 === 0) await t.advance(1);
      }
      const newestFirst = [...recorded].reverse();
      const first = await t.world.audit.list({ limit: 3 });
      expect(first.items.map((item) => item.auditId)).toEqual(newestFirst.slice(0, 3));
      expect(first.nextCursor).toEqual(expect.any(String));
      expect(await collect({ limit: 3 })).toEqual({ ids: newestFirst, pages: 3 });
      expect((await t.world.audit.list({ limit: 7 })).nextCursor).toBeUndefined();
      expect((await collect({ limit: 2, runId: "wrun_0" })).ids).toEqual(
        newestFirst.filter((_, index) => (6 - index) % 2 === 0),
      );
    });

    it("defaults to 50 per page, at most 1000; an unknown cursor gives an empty page", async () => {
      for (let index = 0; index < 52; index++) await t.world.audit.record(entry());
      const page = await t.world.audit.list();
      expect(page.items).toHaveLength(50);
      expect(page.nextCursor).toEqual(expect.any(String));
      expect((await t.world.audit.list({ limit: 5000 })).items).toHaveLength(52);
      expect(await t.world.audit.list({ cursor: "audit_01UNKNOWN0000000000000000" })).toEqual({ items: [] });
    });

    it("keeps its own copies: changing the input or a returned entry changes nothing stored", async () => {
      const input = entry({ runIds: ["wrun_a"] });
      const recorded = await t.world.audit.record(input);
      (input.runIds as string[]).push("wrun_x");
      input.actor.user = "mallory";
      recorded.runIds.push("wrun_y");
      recorded.actor.pid = 1;
      const listed = (await t.world.audit.list()).items[0];
      expect(listed?.runIds).toEqual(["wrun_a"]);
      expect(listed?.actor).toEqual(actor);
      listed?.runIds.push("wrun_z");
      expect((await t.world.audit.list()).items[0]?.runIds).toEqual(["wrun_a"]);
    });

    it("after close, record and list reject with ConflictError", async () => {
      await t.world.close();
      await expectReject(t.world.audit.record(entry()), ConflictError, true);
      await expectReject(t.world.audit.list(), ConflictError, true);
    });
  });
}
