/**
 * `GET /live` through the handler itself (memory World): the heartbeat comments of an idle stream
 * (`liveHeartbeatMs`), a run's change as `event: run`, `handler.close()` ending the open streams
 * at once and refusing new ones (503 SHUTTING_DOWN), and a client that goes away unsubscribing.
 * The real server process, the narrowing to one run and the remote World: test/e2e/dashboard-live.
 */
import { describe, expect, it } from "vitest";
import { createClient } from "../../src/client/client.ts";
import { createHandler } from "../../src/http/index.ts";
import { appendNext, createRun } from "../../src/world/testing/fixtures.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { SECRET } from "./helpers.ts";

const decoder = new TextDecoder();

/** Reads the body until `done(text)` holds or the stream ends; returns what was read. */
async function readUntil(body: ReadableStream<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  const reader = body.getReader();
  let text = "";
  try {
    while (!done(text)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text;
}

describe("GET /live in the handler", () => {
  it("sends heartbeats when idle, a run's change as an event, and ends on close()", async () => {
    const world = createMemoryWorld();
    const handler = createHandler({ secret: SECRET, client: createClient({ world }), liveHeartbeatMs: 50 });
    const open = () =>
      handler(
        new Request("http://localhost/stepwise/live", { headers: { authorization: `Bearer ${SECRET}` } }),
      );
    const response = await open();
    expect(response.status).toBe(200);
    const body = response.body as ReadableStream<Uint8Array>;
    const start = await readUntil(body, (text) => (text.match(/: keep-alive\n\n/g) ?? []).length >= 2);
    expect(start).toMatch(/^retry: 2000\nevent: ready\ndata: \{\}\n\n/);

    const run = await createRun(world, { workflowName: "workflow//w.ts//w" });
    await appendNext(world, run.runId, [{ type: "run_started", data: {} }]);
    const changed = await readUntil(body, (text) => text.includes('"status":"running"'));
    expect(changed).toContain(`event: run\ndata: {"runId":"${run.runId}"`);

    handler.close();
    const rest = await readUntil(body, () => false); // ends: close() closed it
    expect(rest).not.toContain("event: run");
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("SHUTTING_DOWN");
    await world.close();
  });

  it("stops listening when the client goes away", async () => {
    const world = createMemoryWorld();
    let listeners = 0;
    const subscribe = world.subscribe.bind(world);
    world.subscribe = (listener) => {
      listeners++;
      const off = subscribe(listener);
      return () => {
        listeners--;
        off();
      };
    };
    const handler = createHandler({ secret: SECRET, client: createClient({ world }) });
    const controller = new AbortController();
    const response = await handler(
      new Request("http://localhost/stepwise/live", {
        headers: { authorization: `Bearer ${SECRET}` },
        signal: controller.signal,
      }),
    );
    await readUntil(response.body as ReadableStream<Uint8Array>, (text) => text.includes("event: ready"));
    expect(listeners).toBe(1);
    controller.abort();
    expect(listeners).toBe(0);
    await world.close();
  });
});
