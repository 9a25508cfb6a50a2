/**
 * A throwaway project for the durable agent's tests: a mock model (the AI SDK's
 * `MockLanguageModelV3`, registered as the default provider's "mock" in `models.ts`) that appends a
 * line to `$AGENT_LOG` for every call, a weather tool that is a step (and logs too), a tool that
 * needs approval, and scripts that start a chat run, continue one, and approve. The mock decides by
 * the conversation: a question about the weather gets a tool call, a tool result gets the answer,
 * anything else a long text streamed word by word (`MOCK_CHUNK_DELAY` ms apart).
 */
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { makeProject, type Project, REPO } from "../helpers/project.ts";

export const MODELS = `
import { appendFileSync, readFileSync } from "node:fs";
import { customProvider, simulateReadableStream } from "ai";
import { MockLanguageModelV3 } from "ai/test";

const LOG = process.env.AGENT_LOG ?? "agent.log";
const DELAY = Number(process.env.MOCK_CHUNK_DELAY ?? "0");
const FAILURES = Number(process.env.MOCK_FAILURES ?? "0");
const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};
export const LONG_ANSWER = Array.from({ length: 40 }, (_, i) => "word" + i).join(" ");

function lines(): string[] {
  try {
    return readFileSync(LOG, "utf8").split("\\n").filter(Boolean);
  } catch {
    return [];
  }
}

function text(value: string) {
  const words = value.split(" ");
  return [
    { type: "text-start", id: "t" },
    ...words.map((w, i) => ({ type: "text-delta", id: "t", delta: (i === 0 ? "" : " ") + w })),
    { type: "text-end", id: "t" },
  ];
}

const model = new MockLanguageModelV3({
  doStream: async ({ prompt }) => {
    const last = prompt[prompt.length - 1];
    const calls = lines().filter((l) => l.startsWith("model")).length;
    appendFileSync(LOG, "model " + prompt.length + " " + process.pid + "\\n");
    if (calls < FAILURES) throw new Error("the provider is overloaded (mock failure " + (calls + 1) + ")");
    const finish = (unified) => ({ type: "finish", finishReason: { unified, raw: unified }, usage });
    let parts;
    if (last.role === "tool") {
      const result = last.content[0];
      const said = result.output.type === "json" ? JSON.stringify(result.output.value) : result.output.type;
      parts = [...text("Result of " + result.toolName + ": " + said), finish("stop")];
    } else {
      const question = JSON.stringify(last.content);
      if (question.includes("weather"))
        parts = [{ type: "tool-call", toolCallId: "call-1", toolName: "getWeather", input: JSON.stringify({ city: "Paris" }) }, finish("tool-calls")];
      else if (question.includes("refund"))
        parts = [{ type: "tool-call", toolCallId: "call-2", toolName: "refund", input: JSON.stringify({ amount: 40 }) }, finish("tool-calls")];
      else if (question.includes("remind"))
        parts = [{ type: "tool-call", toolCallId: "call-4", toolName: "remindLater", input: JSON.stringify({ after: "1s" }) }, finish("tool-calls")];
      else if (question.includes("opaque"))
        parts = [{ type: "tool-call", toolCallId: "call-5", toolName: "opaque", input: "{}" }, finish("tool-calls")];
      else if (question.includes("broken"))
        parts = [{ type: "tool-call", toolCallId: "call-3", toolName: "broken", input: "{}" }, finish("tool-calls")];
      else parts = [...text(LONG_ANSWER), finish("stop")];
    }
    return { stream: simulateReadableStream({ chunks: [{ type: "stream-start", warnings: [] }, ...parts], chunkDelayInMs: DELAY }) };
  },
});

globalThis.AI_SDK_DEFAULT_PROVIDER = customProvider({ languageModels: { mock: model } });
`;

export const WORKFLOW = `
import { appendFileSync } from "node:fs";
import { sleep } from "stepwise-workflows";
import { DurableAgent } from "stepwise-workflows/ai";

async function getWeather(input: { city: string }) {
  "use step";
  appendFileSync(process.env.AGENT_LOG ?? "agent.log", "tool getWeather " + process.pid + "\\n");
  return { city: input.city, celsius: 21 };
}

async function refundMoney(input: { amount: number }) {
  "use step";
  appendFileSync(process.env.AGENT_LOG ?? "agent.log", "tool refund " + process.pid + "\\n");
  return { refunded: input.amount };
}

async function opaqueTool() {
  "use step";
  return { callback: () => "a function cannot be stored" };
}

async function brokenTool() {
  "use step";
  return { when: new Date(0) };
}

// A tool written as workflow code: it sleeps durably (the run leaves memory), then calls a step.
async function remindLater(input: { after: string }) {
  await sleep(input.after);
  return await sendReminder(input.after);
}

async function sendReminder(after: string) {
  "use step";
  appendFileSync(process.env.AGENT_LOG ?? "agent.log", "tool remind " + process.pid + "\\n");
  return { reminded: true, after };
}

export async function chat(messages: unknown[], options: { pauseAfter?: string } = {}) {
  "use workflow";
  const agent = new DurableAgent({
    model: "mock",
    system: "You are a helpful assistant.",
    modelRetries: { limit: 2, delay: 50 },
    tools: {
      getWeather: {
        description: "The weather in a city",
        inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        execute: getWeather,
      },
      refund: {
        description: "Refund an amount",
        inputSchema: { type: "object", properties: { amount: { type: "number" } }, required: ["amount"] },
        needsApproval: true,
        execute: refundMoney,
      },
      broken: { inputSchema: { type: "object" }, execute: brokenTool },
      opaque: { inputSchema: { type: "object" }, execute: opaqueTool },
      remindLater: {
        inputSchema: { type: "object", properties: { after: { type: "string" } } },
        execute: remindLater,
      },
    },
  });
  const result = await agent.stream({ messages: messages as never });
  // A sleep after the answer: the run leaves memory and replays its whole log when it wakes.
  if (options.pauseAfter !== undefined) await sleep(options.pauseAfter);
  return { text: result.text, steps: result.steps };
}
`;

/** Starts a chat run with one user message; prints the run id, then (unless --detach) the result. */
export const START = `
import "./models.ts";
import { start } from "stepwise-workflows/api";
import { chat } from "./workflows/chat.ts";
const [text, pauseAfter] = process.argv.slice(2);
const messages = [{ id: "u1", role: "user", parts: [{ type: "text", text }] }];
const run = await start(chat, [messages, pauseAfter ? { pauseAfter } : {}]);
console.log(run.runId);
try {
  console.log(JSON.stringify(await run.returnValue));
} catch (error) {
  console.log("FAILED " + (error as Error).message);
}
`;

/** Drives an existing run to its end (the in-process worker claims it). */
export const CONTINUE = `
import "./models.ts";
import { getRun } from "stepwise-workflows/api";
import "./workflows/chat.ts";
console.log(JSON.stringify(await getRun(process.argv[2]!).returnValue));
`;

export function makeAgentProject(extra: Record<string, string> = {}): Project {
  const project = makeProject({
    "models.ts": MODELS,
    "workflows/chat.ts": WORKFLOW,
    "start.ts": START,
    "continue.ts": CONTINUE,
    "read.ts": READ,
    "approve.ts": APPROVE,
    ...extra,
  });
  // The app depends on the AI SDK, as a user's would (the optional peer).
  symlinkSync(join(REPO, "node_modules", "ai"), join(project.dir, "node_modules", "ai"), "dir");
  return project;
}

/** The lines of the log the mocks append to. */
export function logLines(text: string): string[] {
  return text.split("\n").filter(Boolean);
}

/** Prints the SSE answer a chat route gives for the run's stream from a start index. */
export const READ = `
import { getRun } from "stepwise-workflows/api";
import { createAgentStreamResponse } from "stepwise-workflows/ai";
const response = createAgentStreamResponse(getRun(process.argv[2]!), { startIndex: Number(process.argv[3] ?? "0") });
console.log("run-id: " + response.headers.get("x-workflow-run-id"));
process.stdout.write(await response.text());
`;

/** Answers a tool approval: resumes the hook whose token is the approval id. */
export const APPROVE = `
import { resumeHook } from "stepwise-workflows/api";
const [token, answer, reason] = process.argv.slice(2);
await resumeHook(token!, { approved: answer === "yes", ...(reason ? { reason } : {}) });
`;
