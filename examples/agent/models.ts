/**
 * The example's model: the AI SDK's `MockLanguageModelV3` as model "demo" of the default
 * provider, so the example runs offline and the same way every time. It streams word by word
 * (`DEMO_CHUNK_DELAY` ms apart, 80 by default: slow enough to reload the page mid-answer), asks for
 * the `refundOrder` tool when the user mentions a refund, and answers tool results. Every call
 * appends a line to `$AGENT_LOG` when it is set (the tests count calls there).
 *
 * With a real model: delete this import from server.ts, and give DurableAgent an AI Gateway id
 * ("anthropic/claude-haiku-4.5", with AI_GATEWAY_API_KEY set), or set
 * `globalThis.AI_SDK_DEFAULT_PROVIDER` to your provider (customProvider / createProviderRegistry).
 */
import { appendFileSync } from "node:fs";
import type { LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { customProvider, simulateReadableStream } from "ai";
import { MockLanguageModelV3 } from "ai/test";

const DELAY = Number(process.env.DEMO_CHUNK_DELAY ?? "80");

export const STORY =
  "Stepwise writes this answer into a durable stream as the model produces it. " +
  "Reload the page while it is being written: the chat reconnects to the same run and reads the stream again from its first chunk, " +
  "so you see the very same answer go on where it was, without asking the model twice. " +
  "The model call is a step of the workflow, recorded once in its event log.";

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 10, text: 10, reasoning: 0 },
};

function words(text: string): LanguageModelV3StreamPart[] {
  return [
    { type: "text-start", id: "answer" },
    ...text.split(" ").map(
      (word, i): LanguageModelV3StreamPart => ({
        type: "text-delta",
        id: "answer",
        delta: i === 0 ? word : ` ${word}`,
      }),
    ),
    { type: "text-end", id: "answer" },
  ];
}

const finish = (unified: "stop" | "tool-calls"): LanguageModelV3StreamPart => ({
  type: "finish",
  finishReason: { unified, raw: unified },
  usage,
});

const demo = new MockLanguageModelV3({
  modelId: "demo",
  doStream: async ({ prompt }) => {
    if (process.env.AGENT_LOG) appendFileSync(process.env.AGENT_LOG, `model ${prompt.length}\n`);
    const last = prompt[prompt.length - 1];
    let parts: LanguageModelV3StreamPart[];
    if (last?.role === "tool") {
      const result = last.content.find((part) => part.type === "tool-result");
      parts =
        result?.output.type === "execution-denied"
          ? [...words("Understood: I did not refund order 42."), finish("stop")]
          : [
              ...words(
                `Done: ${JSON.stringify(result?.output.type === "json" ? result.output.value : null)}.`,
              ),
              finish("stop"),
            ];
    } else if (
      JSON.stringify(last?.content ?? "")
        .toLowerCase()
        .includes("refund")
    ) {
      parts = [
        { type: "text-start", id: "intro" },
        { type: "text-delta", id: "intro", delta: "I can refund order 42 once you approve." },
        { type: "text-end", id: "intro" },
        {
          type: "tool-call",
          toolCallId: "refund-1",
          toolName: "refundOrder",
          input: JSON.stringify({ orderId: "42", amount: 40 }),
        },
        finish("tool-calls"),
      ];
    } else {
      parts = [...words(STORY), finish("stop")];
    }
    return {
      stream: simulateReadableStream({
        chunks: [{ type: "stream-start", warnings: [] }, ...parts],
        chunkDelayInMs: DELAY,
      }),
    };
  },
});

globalThis.AI_SDK_DEFAULT_PROVIDER = customProvider({ languageModels: { demo } });
