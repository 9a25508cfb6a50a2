/**
 * Conformance: durable streams. Chunks are numbered from 0 in write order and come back byte for
 * byte; `read` pages with `from` / `limit`; a closed stream takes no more chunks; unknown runs and
 * streams are errors.
 */
import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, RunNotFoundError } from "../../errors/world.ts";
import { allBytes, appendNext, bytes, expectBytes, expectReject, startedRun, utf8 } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describeStreams(t: WorldContext): void {
  describe("streams", () => {
    it("write creates the stream, appends chunks and returns the stream's info", async () => {
      const run = await startedRun(t.world);
      const info = await t.world.streams.write(run.runId, "out", [utf8("a"), utf8("b")]);
      expect(info).toEqual({ runId: run.runId, name: "out", length: 2, closed: false });
      const next = await t.world.streams.write(run.runId, "out", [utf8("c")]);
      expect(next.length).toBe(3);
      expect(await t.world.streams.info(run.runId, "out")).toEqual(next);
      const { chunks, info: readInfo } = await t.world.streams.read(run.runId, "out");
      expect(readInfo).toEqual(next);
      expect(chunks.map((chunk) => chunk.index)).toEqual([0, 1, 2]);
      expect(chunks.map((chunk) => new TextDecoder().decode(chunk.data))).toEqual(["a", "b", "c"]);
      for (const chunk of chunks) t.expectTime(chunk.createdAt, t.now());
    });

    it("binary chunks round-trip byte for byte, empty chunks included", async () => {
      const run = await startedRun(t.world);
      const big = new Uint8Array(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
      await t.world.streams.write(run.runId, "bin", [allBytes(), new Uint8Array(0), big, bytes(0)]);
      const { chunks } = await t.world.streams.read(run.runId, "bin");
      expect(chunks).toHaveLength(4);
      expectBytes(chunks[0]?.data, allBytes());
      expectBytes(chunks[1]?.data, new Uint8Array(0));
      expectBytes(chunks[2]?.data, big);
      expectBytes(chunks[3]?.data, bytes(0));
    });

    it("keeps its own copy of chunks: reusing the caller's buffer changes nothing", async () => {
      const run = await startedRun(t.world);
      const buffer = utf8("first");
      await t.world.streams.write(run.runId, "s", [buffer]);
      buffer.set(utf8("XXXXX"));
      await t.world.streams.write(run.runId, "s", [buffer]);
      const { chunks } = await t.world.streams.read(run.runId, "s");
      expectBytes(chunks[0]?.data, utf8("first"));
      expectBytes(chunks[1]?.data, utf8("XXXXX"));
    });

    it("read pages with from and limit; from past the end gives no chunks", async () => {
      const run = await startedRun(t.world);
      await t.world.streams.write(
        run.runId,
        "s",
        Array.from({ length: 10 }, (_, index) => bytes(index)),
      );
      const indices = async (options: { from?: number; limit?: number }) =>
        (await t.world.streams.read(run.runId, "s", options)).chunks.map((chunk) => chunk.index);
      expect(await indices({ from: 3, limit: 4 })).toEqual([3, 4, 5, 6]);
      expect(await indices({ from: 8 })).toEqual([8, 9]);
      expect(await indices({ limit: 2 })).toEqual([0, 1]);
      expect(await indices({ from: 10 })).toEqual([]);
      expect(await indices({ from: 50 })).toEqual([]);
      const { chunks } = await t.world.streams.read(run.runId, "s", { from: 5, limit: 1 });
      expectBytes(chunks[0]?.data, bytes(5));
    });

    it("read returns at most 1000 chunks by default", async () => {
      const run = await startedRun(t.world);
      await t.world.streams.write(
        run.runId,
        "many",
        Array.from({ length: 1005 }, (_, index) => bytes(index & 0xff)),
      );
      const { chunks, info } = await t.world.streams.read(run.runId, "many");
      expect(chunks).toHaveLength(1000);
      expect(info.length).toBe(1005);
      expect((await t.world.streams.read(run.runId, "many", { from: 1000 })).chunks).toHaveLength(5);
    });

    it("close, with or without chunks, and then writes throw ConflictError and change nothing", async () => {
      const run = await startedRun(t.world);
      const closed = await t.world.streams.write(run.runId, "a", [utf8("last")], { close: true });
      expect(closed).toEqual({ runId: run.runId, name: "a", length: 1, closed: true });
      await t.world.streams.write(run.runId, "b", [utf8("x")]);
      expect(await t.world.streams.write(run.runId, "b", [], { close: true })).toMatchObject({
        length: 1,
        closed: true,
      });
      expect(await t.world.streams.write(run.runId, "c", [], { close: true })).toMatchObject({
        length: 0,
        closed: true,
      });
      await expectReject(t.world.streams.write(run.runId, "a", [utf8("more")]), ConflictError, true);
      await expectReject(t.world.streams.write(run.runId, "c", [], { close: true }), ConflictError, true);
      const { chunks, info } = await t.world.streams.read(run.runId, "a");
      expect(info).toEqual(closed);
      expect(chunks).toHaveLength(1);
    });

    it("an empty write creates an empty open stream", async () => {
      const run = await startedRun(t.world);
      expect(await t.world.streams.write(run.runId, "empty", [])).toEqual({
        runId: run.runId,
        name: "empty",
        length: 0,
        closed: false,
      });
      expect((await t.world.streams.read(run.runId, "empty")).chunks).toEqual([]);
    });

    it("unknown streams throw NotFoundError, unknown runs RunNotFoundError", async () => {
      const run = await startedRun(t.world);
      await expectReject(t.world.streams.read(run.runId, "nope"), NotFoundError);
      await expectReject(t.world.streams.info(run.runId, "nope"), NotFoundError);
      const readError = await expectReject(t.world.streams.read(run.runId, "nope"), NotFoundError);
      expect(RunNotFoundError.is(readError)).toBe(false);
      await expectReject(t.world.streams.write("wrun_missing", "s", [utf8("x")]), RunNotFoundError, true);
      await expectReject(t.world.streams.read("wrun_missing", "s"), NotFoundError);
      await expectReject(t.world.streams.list("wrun_missing"), RunNotFoundError, true);
    });

    it("streams are per run and listed in creation order", async () => {
      const a = await startedRun(t.world);
      const b = await startedRun(t.world);
      await t.world.streams.write(a.runId, "z", [utf8("1")]);
      await t.world.streams.write(b.runId, "z", [utf8("2"), utf8("3")]);
      await t.world.streams.write(a.runId, "m", [], { close: true });
      expect(await t.world.streams.list(a.runId)).toEqual([
        { runId: a.runId, name: "z", length: 1, closed: false },
        { runId: a.runId, name: "m", length: 0, closed: true },
      ]);
      expect(await t.world.streams.list(b.runId)).toEqual([
        { runId: b.runId, name: "z", length: 2, closed: false },
      ]);
      const c = await startedRun(t.world);
      expect(await t.world.streams.list(c.runId)).toEqual([]);
    });

    it("a finished run's streams can still be read", async () => {
      const run = await startedRun(t.world);
      await t.world.streams.write(run.runId, "out", [utf8("x")], { close: true });
      await appendNext(t.world, run.runId, [{ type: "run_completed", data: {} }]);
      expect((await t.world.streams.read(run.runId, "out")).chunks).toHaveLength(1);
    });
  });
}
