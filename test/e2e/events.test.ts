/**
 * Events end to end, in real processes, on the local World (one SQLite file) and on PostgreSQL: a
 * dedicated worker drives the runs; `npx stepwise start`, `send-event`, `hooks resume` and
 * `cancel`, an application script (`run.sendEvent`) and an HTTP server (`POST
 * /runs/:runId/events`) are each their own process. Checked: events sent before the workflow
 * waits are kept and received, in the order they were sent, each by the first wait of its type;
 * a wait that times out throws a `WaitTimeoutError` the workflow catches; bad input — an unknown
 * run (404), a finished run (409), a payload over the limits (413), a payload failing its type's
 * schema (400, and the CLI's exit 1) — is refused with nothing written. (These tests load
 * `dist/`: run `npm run build` first.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshot } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { type E2eWorld, ok, openE2eWorld, pollFor } from "../helpers/e2e.ts";
import { makeProject, type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const SECRET = "e2e-events-secret-0123456789abcdef0123";

const FILES: Record<string, string> = {
  "workflows/events.ts": `
import { appendFileSync } from "node:fs";
import { createHook, defineEvent, waitForEvent, WaitTimeoutError } from "stepwise-workflows";

/** Payments carry an amount: every process that loads this file refuses one without. */
export const paid = defineEvent<{ amount: number }>("order.paid", {
  schema: {
    "~standard": {
      version: 1,
      vendor: "e2e",
      validate: (value: unknown) =>
        typeof (value as { amount?: unknown } | null)?.amount === "number"
          ? { value: value as { amount: number } }
          : { issues: [{ message: "amount must be a number", path: ["amount"] }] },
    },
  },
});

async function record(label: string): Promise<string> {
  "use step";
  appendFileSync("journal.log", label + "\\n");
  return label;
}

export async function order(id: string) {
  "use workflow";
  // Held here until the test says go, so that every event below is sent before its wait.
  await createHook({ token: \`go-\${id}\` });
  const payment = await paid.wait({ timeout: "1h" });
  let late = "received";
  try {
    await waitForEvent("order.late", { timeout: "1s" });
  } catch (error) {
    late = WaitTimeoutError.is(error) ? \`caught \${(error as Error).name}\` : String(error);
  }
  const [a, b] = await Promise.all([
    waitForEvent<string>("item", { timeout: "1h" }),
    waitForEvent<string>("item", { timeout: "1h" }),
  ]);
  const c = await waitForEvent<string>("item", { timeout: "1h" });
  await record(\`\${id} done\`);
  return {
    amount: payment.payload.amount,
    sentAt: payment.timestamp.toISOString(),
    late,
    items: [a.payload, b.payload, c.payload],
  };
}
`,
  "send.ts": `
import { getRun, shutdown } from "stepwise-workflows/api";
const [runId, ...items] = process.argv.slice(2);
for (const item of items) await getRun(runId!).sendEvent("item", item);
await shutdown();
`,
  "server.ts": `
import { createServer } from "node:http";
import { createHandler, toNodeListener } from "stepwise-workflows/http";
import "./workflows/events.ts";
const server = createServer(toNodeListener(createHandler({ maxBodyBytes: 64 * 1024 })));
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === "object" && address !== null ? address.port : 0 }));
});
`,
};

for (const kind of ["local", "postgres"] as const) {
  describe(`events in real processes on the ${kind} World`, () => {
    let project: Project;
    let opened: E2eWorld | undefined;
    let world: World;
    let env: Record<string, string>;
    let worker: ReturnType<typeof spawnNode>;
    let http: ReturnType<typeof spawnNode>;
    let origin: string;

    beforeAll(async () => {
      project = makeProject(FILES);
      opened = await openE2eWorld(kind, project.dir);
      ({ world, env } = opened);
      worker = spawnNode([CLI, "worker", "workflows/events.ts"], project.dir, env);
      http = spawnNode(["--import", REGISTER, "server.ts"], project.dir, {
        ...env,
        STEPWISE_WORKER: "0",
        STEPWISE_HTTP_SECRET: SECRET,
        STEPWISE_MAX_PAYLOAD_BYTES: "2000",
      });
      const { port } = await pollFor("the HTTP server's port", async () => {
        const line = http.output.stdout.split("\n").find((text) => text.startsWith("{"));
        return line === undefined ? undefined : (JSON.parse(line) as { port: number });
      });
      origin = `http://127.0.0.1:${port}/stepwise`;
    }, 90_000);
    afterAll(async () => {
      worker?.child.kill("SIGTERM");
      http?.child.kill("SIGTERM");
      await Promise.all([worker?.exited, http?.exited]);
      await opened?.close();
      project?.remove();
    });

    const stepwise = (...args: string[]) => runNode([CLI, ...args], project.dir, env);
    const post = (runId: string, body: string) =>
      fetch(`${origin}/runs/${runId}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
        body,
      });
    /** Waits until the run waits on its hook and no worker holds it (nothing moves it now). */
    const parked = (runId: string) =>
      pollFor(`run ${runId} parked on its hook`, async () => {
        const [run, hooks] = await Promise.all([
          world.runs.get(runId),
          world.hooks.list({ runId, status: "active" }),
        ]);
        return hooks.length === 1 && run.lease === undefined ? true : undefined;
      });

    it("refuses bad input with nothing written: unknown run, finished run, too large, schema", async () => {
      const waiting = ok(await stepwise("start", "order", '["bad-input"]'));
      const cancelled = ok(await stepwise("start", "order", '["cancelled"]'));
      await parked(waiting);
      await parked(cancelled);
      expect(ok(await stepwise("cancel", cancelled))).toBe(`${cancelled} cancelled`);
      const before = await snapshot(world, [waiting, cancelled]);

      const refusals: [string, string, number, string][] = [
        ["wrun_01NOSUCHRUN0000000000000", JSON.stringify({ type: "item", payload: 1 }), 404, "RUN_NOT_FOUND"],
        [cancelled, JSON.stringify({ type: "item", payload: 1 }), 409, "RUN_FINISHED"],
        [waiting, JSON.stringify({ type: "item", payload: "x".repeat(3000) }), 413, "PAYLOAD_TOO_LARGE"],
        [waiting, JSON.stringify({ type: "item", payload: "x".repeat(70_000) }), 413, "BODY_TOO_LARGE"],
        [
          waiting,
          JSON.stringify({ type: "order.paid", payload: { amount: "42" } }),
          400,
          "EVENT_PAYLOAD_INVALID",
        ],
        [waiting, JSON.stringify({ type: "no spaces", payload: 1 }), 400, "INVALID_EVENT_TYPE"],
      ];
      for (const [runId, body, status, code] of refusals) {
        const response = await post(runId, body);
        const error = ((await response.json()) as { error: { code: string; message: string } }).error;
        expect([response.status, error.code], `${code}: ${error.message}`).toEqual([status, code]);
        if (code === "EVENT_PAYLOAD_INVALID")
          expect(error.message).toContain("amount: amount must be a number");
      }
      // The same refusals from the command line: exit 1, the reason on stderr.
      const schema = await stepwise("send-event", waiting, "order.paid", '{"amount":"42"}');
      expect(schema.code).toBe(1);
      expect(schema.stderr).toMatch(
        /does not match the schema of defineEvent\("order.paid"\).*Nothing was sent/,
      );
      const unknown = await stepwise("send-event", "wrun_01NOSUCHRUN0000000000000", "item");
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/No run with id "wrun_01NOSUCHRUN0000000000000" exists/);
      const finished = await stepwise("send-event", cancelled, "item");
      expect(finished.code).toBe(1);
      expect(finished.stderr).toMatch(/has already ended \(status: cancelled\)/);
      const badType = await stepwise("send-event", waiting, "no spaces");
      expect(badType.code).toBe(2);

      expect(await snapshot(world, [waiting, cancelled])).toEqual(before);
    }, 120_000);

    it("keeps events sent before the waits, delivers them in order to the first wait of their type, and times out a wait", async () => {
      const runId = ok(await stepwise("start", "order", '["o-1"]'));
      await parked(runId);
      // Sent before the workflow waits for any of them, through three doors.
      const cli = JSON.parse(
        ok(await stepwise("send-event", runId, "order.paid", '{"amount": 42}', "--json")),
      ) as { eventId: string; sentAt: string };
      const first = await post(runId, JSON.stringify({ type: "item", payload: "a" }));
      expect(first.status).toBe(202);
      ok(
        await runNode(["--import", REGISTER, "send.ts", runId, "b", "c"], project.dir, {
          ...env,
          STEPWISE_WORKER: "0",
        }),
      );
      const kept = await world.inbox.list(runId);
      expect(kept.map((item) => [item.kind, item.eventType])).toEqual([
        ["event", "order.paid"],
        ["event", "item"],
        ["event", "item"],
        ["event", "item"],
      ]);
      expect(await world.waits.list({ runId })).toEqual([]);

      expect(ok(await stepwise("hooks", "resume", "go-o-1"))).toContain("resumed hook go-o-1");
      const done = await pollFor(`run ${runId} to end`, async () => {
        const run = await world.runs.get(runId);
        return run.status === "running" || run.status === "pending" ? undefined : run;
      });
      expect(done.status).toBe("completed");
      const [shown] = JSON.parse(ok(await stepwise("inspect", "runs", runId, "--json"))).items;
      expect(shown.output).toEqual({
        amount: 42,
        sentAt: cli.sentAt,
        late: "caught WaitTimeoutError",
        items: ["a", "b", "c"],
      });

      // The log: each event taken by the wait it was meant for, the late wait timed out.
      const log = await world.events.list(runId);
      const received = log.flatMap((event) => (event.type === "event_received" ? [event.data] : []));
      expect(received.map((data) => [data.eventType, data.eventId])).toEqual([
        ["order.paid", cli.eventId],
        ...kept.slice(1).map((item) => ["item", item.itemId]),
      ]);
      const waits = await world.waits.list({ runId });
      expect(waits.map((wait) => [wait.kind, wait.eventType, wait.status])).toEqual([
        ["event", "order.paid", "completed"],
        ["event", "order.late", "timed_out"],
        ["event", "item", "completed"],
        ["event", "item", "completed"],
        ["event", "item", "completed"],
      ]);
      // The first item went to the first of the two waits made at once.
      const itemWaits = log.flatMap((event) =>
        event.type === "event_wait_created" && event.data.eventType === "item" ? [event.data.waitId] : [],
      );
      expect(received.slice(1).map((data) => data.waitId)).toEqual(itemWaits);
      expect(await world.inbox.list(runId)).toEqual([]);
      expect(readFileSync(join(project.dir, "journal.log"), "utf8")).toBe("o-1 done\n");
    }, 120_000);
  });
}
