/**
 * Workflows the HTTP tests start (defined without the compiler, see test/helpers/workflows.ts):
 * one that completes with rich values, one that fails, one that sleeps, one that waits on a hook,
 * one that waits for an event, and one that writes a stream while a test holds it at a gate.
 */
import { FatalError } from "../../src/errors/user.ts";
import { defineEvent, getWritable } from "../../src/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const gates = new Map<string, () => void>();

/** Lets the stream writer waiting at `key` go on (waits up to 5 s for it to arrive there). */
export async function openGate(key: string): Promise<void> {
  for (let i = 0; i < 1000 && !gates.has(key); i++) await new Promise((r) => setTimeout(r, 5));
  gates.get(key)?.();
  gates.delete(key);
}

function gate(key: string): Promise<void> {
  return new Promise<void>((resolve) => gates.set(key, resolve));
}

/** The chunk the producer writes at index i: text, an object, or bytes, in turn. */
export function chunkAt(i: number): unknown {
  return i % 3 === 0 ? `text ${i}` : i % 3 === 1 ? { n: i, at: new Date(0) } : new Uint8Array([i, 255]);
}

/** Events of this type must carry `{ amount: number }`: `sendEvent` checks it in this process. */
export const paidEvent = defineEvent("http.paid", {
  schema: {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value: unknown) =>
        typeof (value as { amount?: unknown })?.amount === "number"
          ? { value: value as { amount: number } }
          : { issues: [{ message: "amount must be a number", path: ["amount"] }] },
    },
  },
});

export const wf = defineWorkflows("test/http/workflows.ts", {
  steps: {
    greet: async (name: string) => ({ hello: name, at: new Date(0), big: 12n, tags: new Set(["a"]) }),
    boom: async () => {
      throw new FatalError("boom: the step refused");
    },
    /** Waits until the test opens the gate `key`. */
    block: async (key: string) => {
      await gate(key);
      return "released";
    },
    /** Writes `count` chunks; stops before each index listed in `pauses` until the test opens the gate. */
    produce: async (key: string, count: number, pauses: number[]) => {
      const writer = getWritable().getWriter();
      for (let i = 0; i < count; i++) {
        if (pauses.includes(i)) await gate(`${key}:${i}`);
        await writer.write(chunkAt(i));
      }
      await writer.close();
      return count;
    },
  },
  workflows: {
    greeter: ({ steps }) =>
      async function greeter(name: string) {
        return await steps.greet(name);
      },
    failer: ({ steps }) =>
      async function failer() {
        return await steps.boom();
      },
    sleeper: ({ api }) =>
      async function sleeper(duration: string) {
        await api.sleep(duration);
        return "woke";
      },
    eventWaiter: ({ api }) =>
      async function eventWaiter(type: string) {
        const event = await api.waitForEvent(type, { timeout: "1h" });
        return { type: event.type, payload: event.payload, sentAt: event.timestamp };
      },
    approval: ({ api }) =>
      async function approval(token: string) {
        const hook = api.createHook<unknown>({ token });
        const payload = await hook;
        return { received: payload };
      },
    blocker: ({ steps }) =>
      async function blocker(key: string) {
        await steps.block(key);
        return await steps.block(`${key}:again`);
      },
    webhookDefault: ({ api }) =>
      async function webhookDefault() {
        const webhook = api.createWebhook();
        const request = await webhook;
        return {
          method: request.method,
          url: request.url,
          body: await request.text(),
          type: request.headers.get("content-type"),
        };
      },
    webhookManual: ({ api }) =>
      async function webhookManual() {
        const webhook = api.createWebhook({ respondWith: "manual" });
        const request = await webhook;
        const { n } = (await request.json()) as { n: number };
        await request.respondWith(
          Response.json({ doubled: n * 2 }, { status: 201, headers: { "x-run": "yes" } }),
        );
        return n;
      },
    producer: ({ steps }) =>
      async function producer(key: string, count: number, pauses: number[]) {
        return await steps.produce(key, count, pauses);
      },
  },
});
