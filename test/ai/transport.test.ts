/**
 * `WorkflowChatTransport` in Node against the example's real server: a connection cut in the
 * middle of an answer is resumed from the index of the last chunk received (no chunk lost, none
 * twice); a new transport (a reloaded page) replays the answer from its start through
 * `reconnectToStream`; a chat it knows nothing of has nothing to resume; a chat route that does
 * not say its run id gets an error that says what to return.
 */
import type { UIMessage, UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TransportStorage, WorkflowChatTransport } from "../../src/ai/transport.ts";
import { type ExampleServer, startExampleServer } from "./example-server.ts";

let server: ExampleServer;
beforeAll(async () => {
  server = await startExampleServer(20);
}, 60_000);
afterAll(() => server?.stop());

function memoryStorage(): TransportStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  };
}

/** A fetch whose first streamed response breaks after `bytes` bytes, as a dropped connection does. */
function flakyFetch(bytes: number) {
  const urls: string[] = [];
  let cut = false;
  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    urls.push(String(input));
    const response = await fetch(input, init);
    if (cut || response.body === null || !response.headers.get("content-type")?.includes("event-stream"))
      return response;
    cut = true;
    const reader = response.body.getReader();
    let passed = 0;
    const broken = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        if (passed + value.length >= bytes) {
          controller.enqueue(value.slice(0, bytes - passed));
          await reader.cancel();
          controller.error(new TypeError("network connection lost (test)"));
          return;
        }
        passed += value.length;
        controller.enqueue(value);
      },
    });
    return new Response(broken, { status: response.status, headers: response.headers });
  };
  return { fetch: wrapped as typeof fetch, urls };
}

async function readAll(stream: ReadableStream<UIMessageChunk>): Promise<UIMessageChunk[]> {
  const chunks: UIMessageChunk[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
  return chunks;
}

/** The answer as the server stores it, read from its first chunk. */
async function serverChunks(runId: string): Promise<UIMessageChunk[]> {
  const response = await fetch(`${server.url}/api/chat/${runId}/stream?startIndex=0`);
  return (await response.text())
    .split("\n\n")
    .filter((e) => e.startsWith("data: ") && e !== "data: [DONE]")
    .map((e) => JSON.parse(e.slice(6)) as UIMessageChunk);
}

const question: UIMessage[] = [
  { id: "u1", role: "user", parts: [{ type: "text", text: "How does it work?" }] },
];
const send = (transport: WorkflowChatTransport, chatId: string) =>
  transport.sendMessages({
    chatId,
    messages: question,
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: undefined,
  });

describe("WorkflowChatTransport", () => {
  it("reconnects from the last chunk it received when the connection drops mid-answer", async () => {
    const storage = memoryStorage();
    // Cut inside the 6th or so event: a partial event must not count.
    const flaky = flakyFetch(700);
    const transport = new WorkflowChatTransport({
      api: `${server.url}/api/chat`,
      storage,
      fetch: flaky.fetch,
      reconnectDelay: 20,
    });
    const chunks = await readAll(await send(transport, "chat-1"));
    const runId = transport.runIdOf("chat-1") ?? "";
    expect(runId).toMatch(/^wrun_/);
    const reconnects = flaky.urls.filter((u) => u.includes("/stream?startIndex="));
    expect(reconnects.length).toBe(1);
    const resumedAt = Number(reconnects[0]?.split("startIndex=")[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(reconnects[0]).toBe(`${server.url}/api/chat/${runId}/stream?startIndex=${resumedAt}`);
    // Nothing lost, nothing twice: exactly the stored answer.
    expect(chunks).toEqual(await serverChunks(runId));
    expect(chunks[0]?.type).toBe("start");
    expect(chunks.at(-1)?.type).toBe("finish");
    expect(JSON.parse(storage.map.get("stepwise-chat:chat-1") ?? "{}")).toMatchObject({
      runId,
      index: chunks.length,
    });

    // A reloaded page: a new transport over the same storage replays the answer from its start.
    const reloaded = new WorkflowChatTransport({ api: `${server.url}/api/chat`, storage });
    const replay = await reloaded.reconnectToStream({ chatId: "chat-1" });
    expect(replay).not.toBeNull();
    expect(await readAll(replay as ReadableStream<UIMessageChunk>)).toEqual(chunks);
    expect(await reloaded.reconnectToStream({ chatId: "another-chat" })).toBeNull();
  });

  it("says what the chat route must return when it gives no run id", async () => {
    const sent: Record<string, string>[] = [];
    const transport = new WorkflowChatTransport({
      api: `${server.url}/`,
      storage: null,
      headers: { authorization: "Bearer app" },
      fetch: (async (_url: string, init: RequestInit) => {
        sent.push(init.headers as Record<string, string>);
        return new Response("data: {}\n\n", { headers: { "content-type": "text/event-stream" } });
      }) as typeof fetch,
    });
    await expect(
      transport.sendMessages({
        chatId: "chat-2",
        messages: question,
        trigger: "submit-message",
        messageId: undefined,
        abortSignal: undefined,
        headers: new Headers({ "x-chat": "two" }),
      }),
    ).rejects.toThrow(/no x-workflow-run-id header\): answer with createAgentStreamResponse\(run\)/);
    // The transport's headers and the request's (a Headers object here) both went out.
    expect(sent[0]).toMatchObject({ authorization: "Bearer app", "x-chat": "two" });
  });
});
