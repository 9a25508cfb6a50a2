/**
 * `GET /runs` with the dashboard's filters — `language`, `since` / `until`, `q` — through the
 * real handler on every World (memory, local SQLite, PostgreSQL): the filters are handed to the
 * World's `runs.list`, so keyset paging stays exact across pages; each listed run says its
 * language; bad values are 400s naming the parameter.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/client.ts";
import { createHandler, type StepwiseHandler } from "../../src/http/index.ts";
import { workflowLanguage } from "../../src/ops/run-language.ts";
import { appendNext, createRun, hookCreated } from "../../src/world/testing/fixtures.ts";
import type { RunRecord, World } from "../../src/world/types.ts";
import { everyWorld, type WorldEnv } from "../helpers/every-world.ts";
import { SECRET } from "./helpers.ts";

const TS_ORDER = "workflow//workflows/order.ts//order";
const JS_MAIL = "workflow//lib/mail.mjs//mail";
const PY_REPORT = "workflow//app.workflows.report//report";
const PY_ORDER = "workflow//app.orders//order";

const { worlds, stop } = everyWorld("listfilters");
afterAll(stop);

interface Listed {
  runs: { runId: string; workflowName: string; language: string; createdAt: string }[];
  nextCursor: string | null;
}

describe("workflowLanguage", () => {
  it("reads the file part of the workflow id", () => {
    expect(workflowLanguage(TS_ORDER)).toBe("typescript");
    expect(workflowLanguage(JS_MAIL)).toBe("typescript");
    expect(workflowLanguage("workflow//src/a.tsx//A")).toBe("typescript");
    expect(workflowLanguage("workflow//src/a.cjs//A")).toBe("typescript");
    expect(workflowLanguage(PY_REPORT)).toBe("python");
    expect(workflowLanguage("workflow//__main__//Flow.run")).toBe("python");
    expect(workflowLanguage("workflow//ts.module//x")).toBe("python");
    expect(workflowLanguage("conformance/workflow")).toBe("typescript");
  });
});

describe.each(Object.keys(worlds) as (keyof typeof worlds)[])("GET /runs filters on the %s World", (name) => {
  let env: WorldEnv;
  let world: World;
  let handler: StepwiseHandler;
  /** Every run made, newest first. */
  let runs: RunRecord[];

  const get = async (query: string): Promise<Response> =>
    handler(
      new Request(`http://localhost/stepwise/runs${query}`, {
        headers: { authorization: `Bearer ${SECRET}` },
      }),
    );
  const list = async (query: string): Promise<Listed> => {
    const response = await get(query);
    expect(response.status, `${query}: ${await response.clone().text()}`).toBe(200);
    return (await response.json()) as Listed;
  };
  /** Every run id of a listing, page after page (`limit` per page). */
  const all = async (query: string): Promise<{ ids: string[]; pages: number }> => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Listed = await list(
        `${query}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      ids.push(...page.runs.map((run) => run.runId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);
    return { ids, pages };
  };

  beforeEach(async () => {
    env = await worlds[name]();
    world = env.world;
    handler = createHandler({ secret: SECRET, client: createClient({ world }) });
    runs = [];
    const names = [TS_ORDER, PY_REPORT, JS_MAIL, PY_ORDER];
    for (let index = 0; index < 12; index++) {
      runs.push(
        await createRun(world, {
          workflowName: names[index % 4] as string,
          createdAt: Date.UTC(2026, 0, 1, 10, 0, index),
        }),
      );
    }
    runs.reverse();
  });
  afterEach(async () => {
    await world.close();
    env.cleanup();
  });

  const ids = (pick: (run: RunRecord) => boolean) => runs.filter(pick).map((run) => run.runId);

  it("lists each run with its language", async () => {
    const page = await list("?limit=4");
    expect(page.runs.map((run) => [run.workflowName, run.language])).toEqual([
      [PY_ORDER, "python"],
      [JS_MAIL, "typescript"],
      [PY_REPORT, "python"],
      [TS_ORDER, "typescript"],
    ]);
  });

  it("filters by language across pages, alone and with a workflow and a status", async () => {
    const python = ids((run) => run.workflowName.startsWith("workflow//app."));
    expect(await all("?language=python&limit=2")).toEqual({ ids: python, pages: 3 });
    expect((await all("?language=typescript&limit=5")).ids).toEqual(
      ids((run) => !python.includes(run.runId)),
    );
    expect((await all("?language=python&language=typescript&limit=5")).ids).toEqual(runs.map((r) => r.runId));
    expect((await all("?language=typescript,python")).ids).toHaveLength(12);
    // "order" names a TypeScript and a Python workflow: the language picks one.
    expect((await all("?workflow=order&language=python&limit=1")).ids).toEqual(
      ids((run) => run.workflowName === PY_ORDER),
    );
    expect((await all("?workflow=mail&language=python")).ids).toEqual([]);
    expect((await all("?language=python&status=running")).ids).toEqual([]);
  });

  it("filters by creation time (since inclusive, until exclusive; ISO or epoch ms) across pages", async () => {
    const since = Date.UTC(2026, 0, 1, 10, 0, 3);
    const until = Date.UTC(2026, 0, 1, 10, 0, 9);
    const inRange = ids((run) => run.createdAt >= since && run.createdAt < until);
    expect(inRange).toHaveLength(6);
    expect(await all(`?since=${since}&until=${until}&limit=4`)).toEqual({ ids: inRange, pages: 2 });
    expect((await all("?since=2026-01-01T10:00:03Z&until=2026-01-01T10:00:09.000Z&limit=2")).ids).toEqual(
      inRange,
    );
    expect((await all("?since=2026-01-01T11:00:03%2B01:00&limit=3")).ids).toEqual(
      ids((run) => run.createdAt >= since),
    );
    expect((await all(`?until=${since}&language=typescript&limit=1`)).ids).toEqual(
      ids((run) => run.createdAt < since && !run.workflowName.startsWith("workflow//app.")),
    );
    expect((await all("?since=2026-01-02")).ids).toEqual([]);
  });

  it("q finds a run by its id, or by the token of its active hook, with the other filters applied", async () => {
    const target = runs[5] as RunRecord;
    expect((await list(`?q=${target.runId}`)).runs.map((run) => run.runId)).toEqual([target.runId]);
    await appendNext(world, target.runId, [{ type: "run_started", data: {} }]);
    await appendNext(world, target.runId, [hookCreated("hook_q1", "approve/order 7")]);
    const byToken = await list(`?q=${encodeURIComponent("approve/order 7")}`);
    expect(byToken).toEqual({ runs: [expect.objectContaining({ runId: target.runId })], nextCursor: null });
    expect((await list(`?q=${target.runId}&status=completed`)).runs).toEqual([]);
    const other = workflowLanguage(target.workflowName) === "python" ? "typescript" : "python";
    expect((await list(`?q=${target.runId}&language=${other}`)).runs).toEqual([]);
    expect((await list("?q=wrun_nobody")).runs).toEqual([]);
    expect((await list("?q=no-such-token")).runs).toEqual([]);
    // A disposed hook's token is free again: it names no run.
    await appendNext(world, target.runId, [{ type: "hook_disposed", data: { hookId: "hook_q1" } }]);
    expect((await list(`?q=${encodeURIComponent("approve/order 7")}`)).runs).toEqual([]);
  });

  it.each([
    ["language=ruby", "language"],
    ["since=yesterday", "since"],
    ["until=2026-13-45T99:00:00Z", "until"],
    ["since=1&since=2", "since"],
    ["q=", "q"],
    ["q=x&cursor=wrun_1", "cursor"],
  ])("refuses %s with a 400 naming %s", async (query, parameter) => {
    const response = await get(`?${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("INVALID_QUERY");
    expect(body.error.message).toContain(parameter);
  });
});
