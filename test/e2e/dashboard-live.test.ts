/**
 * `GET /stepwise/live` on a real `node dist/cli/index.js server` process: server-sent events with
 * a `retry:` line, `event: run` as runs change (fed by the World's change hints), `?runId=`
 * narrowing to one run with `timeline` / `log-changed` hints, 404 for an unknown run, 401 without
 * the secret, and the stream ended at once by the server's graceful shutdown (SIGTERM).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pollFor } from "../helpers/e2e.ts";
import { REPO, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const SECRET = randomBytes(24).toString("hex");
const auth = { authorization: `Bearer ${SECRET}` };
/** A workflow the server has no code for: its runs are created and stay pending (no worker). */
const WORKFLOW = "workflow//app.flows//flow";

let dir: string;
const children: ReturnType<typeof spawnNode>[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-live-"));
});
afterEach(() => {
  for (const child of children.splice(0)) child.child.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startServer(world = "local"): Promise<{ url: string; server: ReturnType<typeof spawnNode> }> {
  const server = spawnNode([CLI, "server", "--port", "0"], dir, {
    STEPWISE_WORLD: world,
    STEPWISE_DATA_DIR: join(dir, `data-${randomBytes(6).toString("hex")}`),
    STEPWISE_HTTP_SECRET: SECRET,
  });
  children.push(server);
  const url = await pollFor("the startup line", async () => {
    if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.output.stderr}`);
    return /listening on (http:\/\/\S+)/.exec(server.output.stderr)?.[1];
  });
  return { url, server };
}

/** Reads server-sent events from a response as they come. */
function eventReader(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let done = false;
  const events: { event: string; data: unknown }[] = [];
  const raw: string[] = [];
  const pump = (async () => {
    for (;;) {
      // A server killed at the end of a test breaks the connection: that ends the reading too.
      const { value, done: finished } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (finished) break;
      buffer += decoder.decode(value, { stream: true });
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        raw.push(block);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined)
          events.push({ event, data: data === undefined ? undefined : JSON.parse(data) });
        cut = buffer.indexOf("\n\n");
      }
    }
    done = true;
  })();
  return {
    events,
    raw,
    pump,
    get done() {
      return done;
    },
    cancel: () => reader.cancel(),
  };
}

const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}/stepwise${path}`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("GET /stepwise/live", () => {
  it("streams run changes, narrows to one run with timeline hints, and ends at once on SIGTERM", async () => {
    const { url, server } = await startServer();
    const response = await fetch(`${url}/stepwise/live`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const all = eventReader(response);
    await pollFor("the ready event", async () =>
      all.events.some((e) => e.event === "ready") ? true : undefined,
    );
    expect(all.raw[0]).toMatch(/^retry: \d+\nevent: ready/);

    const started = (await (await post(url, "/runs", { workflow: WORKFLOW, args: [] })).json()) as {
      runId: string;
    };
    await pollFor("the run event", async () =>
      all.events.some((e) => e.event === "run" && (e.data as { runId: string }).runId === started.runId)
        ? true
        : undefined,
    );
    expect(all.events.find((e) => e.event === "run")?.data).toMatchObject({
      runId: started.runId,
      workflowName: WORKFLOW,
      status: "pending",
      language: "python",
    });

    const one = eventReader(await fetch(`${url}/stepwise/live?runId=${started.runId}`, { headers: auth }));
    const other = (await (await post(url, "/runs", { workflow: WORKFLOW, args: [] })).json()) as {
      runId: string;
    };
    expect((await post(url, `/runs/${started.runId}/cancel`, {})).status).toBe(200);
    await pollFor("the cancelled run on the narrowed stream", async () =>
      one.events.some((e) => e.event === "run" && (e.data as { status: string }).status === "cancelled")
        ? true
        : undefined,
    );
    expect(one.events.some((e) => e.event === "timeline")).toBe(true);
    expect(one.events.some((e) => e.event === "log-changed")).toBe(true);
    expect(one.events.every((e) => (e.data as { runId?: string }).runId !== other.runId)).toBe(true);
    await pollFor("the other run on the whole stream", async () =>
      all.events.some((e) => (e.data as { runId?: string } | undefined)?.runId === other.runId)
        ? true
        : undefined,
    );

    const signalled = Date.now();
    server.child.kill("SIGTERM");
    await Promise.all([all.pump, one.pump]);
    expect(all.done && one.done).toBe(true);
    expect(await server.exited).toBe(0);
    // Ended by the shutdown itself, not by the server's 10 s grace period for requests in flight.
    expect(Date.now() - signalled).toBeLessThan(10_000);
  }, 60_000);

  it("works over the remote World: a server on another server's World streams the changes made there", async () => {
    const { url: first } = await startServer();
    const { url: second } = await startServer(first);
    const live = eventReader(await fetch(`${second}/stepwise/live`, { headers: auth }));
    await pollFor("the ready event", async () =>
      live.events.some((e) => e.event === "ready") ? true : undefined,
    );
    const started = (await (await post(first, "/runs", { workflow: WORKFLOW, args: [] })).json()) as {
      runId: string;
    };
    expect((await post(first, `/runs/${started.runId}/cancel`, {})).status).toBe(200);
    await pollFor("the change, through the remote World's notification stream", async () =>
      live.events.some(
        (e) =>
          (e.event === "run" && (e.data as { status: string }).status === "cancelled") ||
          e.event === "resync",
      )
        ? true
        : undefined,
    );
    // Whatever the hint said, reading the run on the second server shows it.
    const runs = (await (await fetch(`${second}/stepwise/runs`, { headers: auth })).json()) as {
      runs: { runId: string; status: string }[];
    };
    expect(runs.runs).toEqual([expect.objectContaining({ runId: started.runId, status: "cancelled" })]);
    await live.cancel();
  }, 60_000);

  it("refuses an unknown run (404), a bad query (400) and a missing secret (401)", async () => {
    const { url } = await startServer();
    expect((await fetch(`${url}/stepwise/live?runId=wrun_nobody`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/stepwise/live?run=x`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${url}/stepwise/live`)).status).toBe(401);
  }, 60_000);
});
