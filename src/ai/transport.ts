/**
 * `WorkflowChatTransport`: the `useChat` transport for a chat whose answers are durable agent runs.
 * Sending a message POSTs the conversation to the app's chat route, which starts a run and answers
 * with `createAgentStreamResponse(run)`; the transport keeps the run id (header
 * `x-workflow-run-id`) and counts the chunks it has passed on. When the connection drops before
 * the answer ends (no `[DONE]`), it reconnects to `<api>/<runId>/stream?startIndex=<count>` and goes
 * on where it was, so the user sees one unbroken answer. The run id is also kept in
 * `sessionStorage` (when there is one), so a page reloaded mid-answer gets it back through
 * `useChat({ resume: true })`: `reconnectToStream` replays the answer from its first chunk.
 *
 * Tool approvals: the response ends after a `tool-approval-request` chunk (the run waits for a
 * human; `useChat` takes answers only when it is not streaming). When the user answers
 * (`addToolApprovalResponse`), `useChat`
 * sends the messages again (with `sendAutomaticallyWhen:
 * lastAssistantMessageIsCompleteWithApprovalResponses`); the transport POSTs the new answers to
 * `<api>/<runId>/approvals` (`{ approvals: [{ approvalId, approved, reason? }] }`, where the route
 * resumes each approval's hook) and follows the same run's stream from where it was.
 *
 * Browser code: only web APIs, and nothing but types from `ai`.
 */
import type { ChatTransport, UIMessage, UIMessageChunk } from "ai";

/** Where the transport keeps `{ runId, index }` per chat (the `Storage` interface). */
export interface TransportStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** One answer to an approval request, as the transport POSTs it. */
export interface ApprovalAnswer {
  approvalId: string;
  approved: boolean;
  reason?: string;
}

export interface WorkflowChatTransportOptions {
  /** The chat route. Default "/api/chat". */
  api?: string;
  /** Headers for every request (an object, or a function called per request). */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** Extra JSON properties of the POST that starts a run. */
  body?: Record<string, unknown>;
  /** The URL that reconnects to a run's stream. Default `${api}/${runId}/stream?startIndex=${startIndex}`. */
  reconnectUrl?(runId: string, startIndex: number): string;
  /** The URL approvals are POSTed to. Default `${api}/${runId}/approvals`. */
  approvalsUrl?(runId: string): string;
  /** Where run ids are kept across reloads: default `sessionStorage` when there is one; null keeps nothing. */
  storage?: TransportStorage | null;
  /** Reconnections in a row without a new chunk before giving up. Default 5. */
  maxReconnects?: number;
  /** Milliseconds between reconnections. Default 500. */
  reconnectDelay?: number;
  fetch?: typeof fetch;
}

interface ChatState {
  runId: string;
  /** Chunks passed on to the chat so far. */
  index: number;
  /** Approval ids already sent. */
  answered: string[];
}

const STORAGE_PREFIX = "stepwise-chat:";

function defaultStorage(): TransportStorage | null {
  try {
    const storage = (globalThis as { sessionStorage?: TransportStorage }).sessionStorage;
    return storage ?? null;
  } catch {
    return null; // sessionStorage can throw where storage is disabled
  }
}

/** The approval answers in the last assistant message (parts in state `approval-responded`). */
function approvalAnswers(messages: readonly UIMessage[]): ApprovalAnswer[] {
  const last = messages.at(-1);
  if (last === undefined || last.role !== "assistant") return [];
  const answers: ApprovalAnswer[] = [];
  for (const part of last.parts as readonly Record<string, unknown>[]) {
    const approval = part.approval as { id?: unknown; approved?: unknown; reason?: unknown } | undefined;
    if (part.state !== "approval-responded" || typeof approval?.id !== "string") continue;
    answers.push({
      approvalId: approval.id,
      approved: approval.approved === true,
      ...(typeof approval.reason === "string" ? { reason: approval.reason } : {}),
    });
  }
  return answers;
}

/** A request's extra headers (`useChat` passes an object or a `Headers`) as a plain object. */
function headersOf(headers: Record<string, string> | Headers | undefined): Record<string, string> {
  if (headers === undefined) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  return headers;
}

/** Splits an SSE byte stream into its `data:` payloads. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        if (data !== "") yield data;
        end = buffer.indexOf("\n\n");
      }
    }
  } finally {
    // Leaving early (the answer waits for approval, or the reader gave up) closes the connection.
    await reader.cancel().catch(() => undefined);
  }
}

/** A `useChat` transport for durable agent runs (see the file header). */
export class WorkflowChatTransport<UI_MESSAGE extends UIMessage = UIMessage>
  implements ChatTransport<UI_MESSAGE>
{
  /** A reconnection after a reload replays the answer from its start. */
  readonly resumeStreamIsReplay = true;
  readonly #options: WorkflowChatTransportOptions;
  readonly #api: string;
  readonly #storage: TransportStorage | null;
  readonly #chats = new Map<string, ChatState>();

  constructor(options: WorkflowChatTransportOptions = {}) {
    this.#options = options;
    this.#api = options.api ?? "/api/chat";
    this.#storage = options.storage === undefined ? defaultStorage() : options.storage;
  }

  /** The run answering `chatId` now, if any (for an app that shows or shares it). */
  runIdOf(chatId: string): string | undefined {
    return this.#load(chatId)?.runId;
  }

  async sendMessages(
    options: Parameters<ChatTransport<UI_MESSAGE>["sendMessages"]>[0],
  ): Promise<ReadableStream<UIMessageChunk>> {
    const { chatId, messages, abortSignal } = options;
    const state = this.#load(chatId);
    const answers = approvalAnswers(messages).filter((a) => !state?.answered.includes(a.approvalId));
    if (state !== undefined && answers.length > 0) {
      const response = await this.#fetch(this.#approvalsUrl(state.runId), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...this.#headers(),
          ...headersOf(options.headers),
        },
        body: JSON.stringify({ approvals: answers }),
        ...(abortSignal === undefined ? {} : { signal: abortSignal }),
      });
      if (!response.ok)
        throw new Error(
          `Sending the tool approval failed: ${this.#approvalsUrl(state.runId)} answered ${response.status} ${await response.text()}`,
        );
      state.answered.push(...answers.map((a) => a.approvalId));
      this.#save(chatId, state);
      return this.#follow(chatId, state, abortSignal, undefined);
    }
    const response = await this.#fetch(this.#api, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...this.#headers(),
        ...headersOf(options.headers),
      },
      body: JSON.stringify({
        ...this.#options.body,
        ...(options.body as Record<string, unknown> | undefined),
        id: chatId,
        messages,
        trigger: options.trigger,
        messageId: options.messageId,
      }),
      ...(abortSignal === undefined ? {} : { signal: abortSignal }),
    });
    if (!response.ok || response.body === null)
      throw new Error(`The chat route ${this.#api} answered ${response.status}: ${await response.text()}`);
    const runId = response.headers.get("x-workflow-run-id");
    if (runId === null)
      throw new Error(
        `The chat route ${this.#api} did not say which run answers (no x-workflow-run-id header): answer with createAgentStreamResponse(run) from "stepwise-workflows/ai".`,
      );
    const fresh: ChatState = { runId, index: 0, answered: [] };
    this.#save(chatId, fresh);
    return this.#follow(chatId, fresh, abortSignal, response.body);
  }

  async reconnectToStream(
    options: Parameters<ChatTransport<UI_MESSAGE>["reconnectToStream"]>[0],
  ): Promise<ReadableStream<UIMessageChunk> | null> {
    const state = this.#load(options.chatId);
    if (state === undefined) return null;
    // A reloaded page has none of the answer: replay it from the start.
    state.index = 0;
    return this.#follow(options.chatId, state, options.abortSignal, undefined);
  }

  #follow(
    chatId: string,
    state: ChatState,
    signal: AbortSignal | undefined,
    first: ReadableStream<Uint8Array> | undefined,
  ): ReadableStream<UIMessageChunk> {
    const maxReconnects = this.#options.maxReconnects ?? 5;
    const delay = this.#options.reconnectDelay ?? 500;
    let body = first;
    return new ReadableStream<UIMessageChunk>({
      start: async (controller) => {
        let failures = 0;
        for (;;) {
          let progressed = false;
          try {
            if (body === undefined) {
              const response = await this.#fetch(this.#reconnectUrl(state.runId, state.index), {
                headers: this.#headers(),
                ...(signal === undefined ? {} : { signal }),
              });
              if (response.status === 404) {
                this.#forget(chatId);
                controller.close();
                return;
              }
              if (!response.ok || response.body === null)
                throw new Error(`reconnecting answered ${response.status} ${await response.text()}`);
              body = response.body;
            }
            for await (const data of sseData(body)) {
              if (data === "[DONE]") {
                controller.close();
                return;
              }
              const chunk = JSON.parse(data) as UIMessageChunk;
              controller.enqueue(chunk);
              state.index += 1;
              progressed = true;
              this.#save(chatId, state);
              if (chunk.type === "tool-approval-request") {
                // The run now waits for a human: end this response, so the chat can take the answer
                // (useChat sends it once it is no longer streaming); sending it follows on from here.
                controller.close();
                return;
              }
            }
          } catch (error) {
            if (signal?.aborted) {
              controller.error(error);
              return;
            }
          }
          // The connection ended before [DONE]: reconnect from the chunk after the last one passed on.
          body = undefined;
          failures = progressed ? 0 : failures + 1;
          if (failures > maxReconnects) {
            controller.error(
              new Error(
                `Lost the answer's stream (run ${state.runId}) and could not reconnect after ${maxReconnects} tries; reload the page to resume it.`,
              ),
            );
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      },
    });
  }

  #fetch(url: string, init: RequestInit): Promise<Response> {
    return (this.#options.fetch ?? globalThis.fetch)(url, init);
  }

  #headers(): Record<string, string> {
    const headers = this.#options.headers;
    return typeof headers === "function" ? headers() : (headers ?? {});
  }

  #reconnectUrl(runId: string, startIndex: number): string {
    return (
      this.#options.reconnectUrl?.(runId, startIndex) ??
      `${this.#api}/${encodeURIComponent(runId)}/stream?startIndex=${startIndex}`
    );
  }

  #approvalsUrl(runId: string): string {
    return this.#options.approvalsUrl?.(runId) ?? `${this.#api}/${encodeURIComponent(runId)}/approvals`;
  }

  #load(chatId: string): ChatState | undefined {
    const known = this.#chats.get(chatId);
    if (known !== undefined) return known;
    const stored = this.#storage?.getItem(STORAGE_PREFIX + chatId);
    if (stored === null || stored === undefined) return undefined;
    try {
      const state = JSON.parse(stored) as ChatState;
      this.#chats.set(chatId, state);
      return state;
    } catch {
      return undefined;
    }
  }

  #save(chatId: string, state: ChatState): void {
    this.#chats.set(chatId, state);
    this.#storage?.setItem(STORAGE_PREFIX + chatId, JSON.stringify(state));
  }

  #forget(chatId: string): void {
    this.#chats.delete(chatId);
    this.#storage?.removeItem(STORAGE_PREFIX + chatId);
  }
}
