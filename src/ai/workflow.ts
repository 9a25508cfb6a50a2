/**
 * `DurableAgent`: the AI SDK's agent loop written as workflow code. Every model call is a step
 * (`AI_STEPS.model`: it streams the answer's UI message chunks into the run's durable stream and
 * records what the loop needs), every tool whose `execute` is a `"use step"` function runs as that
 * step, and the loop's state (the conversation) lives in the workflow: a replay repeats no model
 * call and no tool call, and an agent can sleep or wait on a hook (tool approval) for days.
 *
 * This module is what `stepwise-workflows/ai` is inside the workflow sandbox (the sandbox bundle
 * maps the entry here). It reaches the runtime only through the sandbox registrar captured when
 * the bundle is evaluated for a run; it imports nothing from Node and nothing from `ai` at run
 * time (types only). On the host the same class is exported, and `stream()` explains where it runs.
 */
import type { FinishReason, ModelMessage, UIMessage, UIMessageChunk } from "ai";
import { jsonProblem } from "./json-check.ts";
import {
  AI_STEPS,
  type JsonSchema,
  type ModelCall,
  type ModelRetries,
  type ModelSettings,
  type ModelStepResult,
  type ToolCallRequest,
  type ToolSpec,
} from "./step-names.ts";

type StepStub = (...args: unknown[]) => Promise<unknown>;

interface SandboxHook<T> extends PromiseLike<T> {
  readonly token: string;
  dispose(): void;
}

interface SandboxApi {
  getWritable(options?: { namespace?: string }): WritableStream<unknown>;
  createHook<T>(options?: { token?: string }): SandboxHook<T>;
  FatalError: new (message: string) => Error;
}

interface Registrar {
  step(stepName: string): StepStub;
  api: Record<string, unknown>;
}

/** The run's registrar, captured as the bundle is evaluated for that run (undefined on the host). */
const registrar = (
  (globalThis as Record<symbol, unknown>)[Symbol.for("stepwise.sandbox")] as
    | { registrar?: Registrar }
    | undefined
)?.registrar;

/** What a human answers to a tool call that needs approval (the payload of its hook). */
export interface ToolApproval {
  approved: boolean;
  /** Why, when denied: the model is told. */
  reason?: string;
}

/** What a tool's `execute` receives besides its input. */
export interface ToolCallInfo {
  toolCallId: string;
  /** The conversation so far (model messages). */
  messages: ModelMessage[];
}

/**
 * A tool of a durable agent. `execute` may be a `"use step"` function (then each call is a step:
 * retried under its own policy, recorded once) or workflow code (it may `sleep`, wait on hooks and
 * call steps). Its result goes to the model as JSON, so it must be JSON.
 */
export interface DurableTool<Input = unknown> {
  description?: string;
  /** A JSON Schema object, or an AI SDK `Schema` (`jsonSchema(...)` from "ai"). */
  inputSchema: JsonSchema | { readonly jsonSchema: JsonSchema };
  execute?(input: Input, info: ToolCallInfo): Promise<unknown>;
  /**
   * Ask a human first: the chat gets a `tool-approval-request` chunk whose `approvalId` is the
   * token of a hook the workflow waits on; resume it with a `ToolApproval`. A function decides per
   * call (it runs as workflow code). Default false.
   */
  needsApproval?: boolean | ((input: Input) => boolean | Promise<boolean>);
}

export interface DurableAgentOptions {
  /**
   * The model's id, resolved inside the model step by the AI SDK: through
   * `globalThis.AI_SDK_DEFAULT_PROVIDER` when the worker process sets one (a `customProvider` or
   * `createProviderRegistry`), else the AI Gateway ("anthropic/claude-haiku-4.5"). A model object
   * cannot be recorded in a workflow, so the id is what the run keeps.
   */
  model: string;
  system?: string;
  tools?: Record<string, DurableTool>;
  /** Model calls per `stream()` at most (each answer to tool results is one). Default 20. */
  maxSteps?: number;
  /** How a failed model call is retried. Default: 2 retries, 1 s then 2 s apart. */
  modelRetries?: ModelRetries;
  settings?: ModelSettings;
}

export interface DurableAgentStreamOptions {
  /** The conversation: UI messages from a chat (`useChat`) or model messages. */
  messages: UIMessage[] | ModelMessage[];
  /** Where the UI message chunks go. Default: the run's default stream, `getWritable()`. */
  writable?: WritableStream<UIMessageChunk>;
  /** Close the stream when the answer ends (so readers end). Default true. */
  closeStream?: boolean;
  /** Overrides the agent's `maxSteps` for this call. */
  maxSteps?: number;
}

export interface DurableAgentResult {
  /** The whole conversation afterwards, as model messages. */
  messages: ModelMessage[];
  /** The text of the last model call. */
  text: string;
  finishReason: FinishReason;
  /** How many model calls it took. */
  steps: number;
}

const NOT_IN_WORKFLOW =
  'DurableAgent.stream() runs inside a workflow function ("use workflow"): call it there, and start the workflow with start() from "stepwise-workflows/api".';

function isUIMessages(messages: readonly (UIMessage | ModelMessage)[]): messages is UIMessage[] {
  return messages.some((m) => Array.isArray((m as { parts?: unknown }).parts));
}

function schemaOf(name: string, schema: DurableTool["inputSchema"]): JsonSchema {
  const inner = (schema as { jsonSchema?: unknown }).jsonSchema;
  const json = inner === undefined ? schema : inner;
  if (typeof json !== "object" || json === null || typeof (json as PromiseLike<unknown>).then === "function")
    throw new Error(
      `Tool "${name}" has no usable inputSchema: give a JSON Schema object (or jsonSchema({...}) from "ai"); a Zod schema converts with z.toJSONSchema(schema).`,
    );
  return json as JsonSchema;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An agent loop whose every model call and tool call is durable (see the file header). */
export class DurableAgent {
  readonly model: string;
  readonly system: string | undefined;
  readonly tools: Readonly<Record<string, DurableTool>>;
  readonly #options: DurableAgentOptions;

  constructor(options: DurableAgentOptions) {
    if (typeof options.model !== "string" || options.model.length === 0)
      throw new Error(
        "DurableAgent needs `model`: a model id string (resolved in the model step by the AI SDK's default provider or the AI Gateway). A model object cannot be recorded in a workflow; register it in the worker with customProvider and pass its id.",
      );
    this.model = options.model;
    this.system = options.system;
    this.tools = options.tools ?? {};
    this.#options = options;
  }

  /**
   * Runs the loop on `messages`: calls the model, runs the tools it asks for (after approval where
   * needed), and calls it again with their results, until it answers without tool calls or
   * `maxSteps` is reached. UI message chunks stream to `writable` as they come; a failure writes an
   * `error` chunk, closes the stream and is thrown (the run fails with it).
   */
  async stream(options: DurableAgentStreamOptions): Promise<DurableAgentResult> {
    if (registrar === undefined) throw new Error(NOT_IN_WORKFLOW);
    const api = registrar.api as unknown as SandboxApi;
    const writable = (options.writable ?? api.getWritable()) as WritableStream<unknown>;
    const writer = writable.getWriter();
    const prepare = registrar.step(AI_STEPS.prepare);
    const callModel = registrar.step(AI_STEPS.model);
    const specs: ToolSpec[] = Object.entries(this.tools).map(([name, tool]) => ({
      name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      inputSchema: schemaOf(name, tool.inputSchema),
    }));
    const maxSteps = options.maxSteps ?? this.#options.maxSteps ?? 20;
    const retries = { limit: 2, delay: 1000, ...this.#options.modelRetries };
    const messageId = `msg-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    let steps = 0;
    let last: ModelStepResult | undefined;
    try {
      const messages: ModelMessage[] = isUIMessages(options.messages)
        ? ((await prepare(options.messages)) as ModelMessage[])
        : [...options.messages];
      await writer.write({ type: "start", messageId } satisfies UIMessageChunk);
      while (steps < maxSteps) {
        const call: ModelCall = { model: this.model, messages, tools: specs, retries };
        if (this.system !== undefined) call.system = this.system;
        if (this.#options.settings !== undefined) call.settings = this.#options.settings;
        // The writable crosses into the step as a reference: the step writes the chunks itself.
        last = (await callModel(call, writable)) as ModelStepResult;
        steps += 1;
        messages.push(...last.messages);
        if (last.finishReason !== "tool-calls" || last.toolCalls.length === 0) break;
        const results = [];
        for (const toolCall of last.toolCalls)
          results.push(await this.#runTool(api, writer, toolCall, messages));
        messages.push({ role: "tool", content: results });
      }
      await writer.write({
        type: "finish",
        finishReason: last?.finishReason ?? "other",
      } satisfies UIMessageChunk);
      if (options.closeStream !== false) await writer.close();
      else writer.releaseLock();
      return { messages, text: last?.text ?? "", finishReason: last?.finishReason ?? "other", steps };
    } catch (error) {
      await writer.write({ type: "error", errorText: errorText(error) } satisfies UIMessageChunk);
      if (options.closeStream !== false) await writer.close();
      else writer.releaseLock();
      throw error;
    }
  }

  async #runTool(
    api: SandboxApi,
    writer: WritableStreamDefaultWriter<unknown>,
    call: ToolCallRequest,
    messages: ModelMessage[],
  ) {
    const { toolCallId, toolName } = call;
    const result = (
      output: Extract<ModelMessage, { role: "tool" }>["content"][number] extends infer P
        ? P extends { type: "tool-result"; output: infer O }
          ? O
          : never
        : never,
    ) => ({ type: "tool-result" as const, toolCallId, toolName, output });
    const tool = this.tools[toolName];
    if (tool === undefined) {
      const text = `There is no tool named "${toolName}"; the tools are: ${Object.keys(this.tools).join(", ") || "none"}.`;
      await writer.write({ type: "tool-output-error", toolCallId, errorText: text } satisfies UIMessageChunk);
      return result({ type: "error-text", value: text });
    }
    const needsApproval =
      typeof tool.needsApproval === "function"
        ? await tool.needsApproval(call.input)
        : tool.needsApproval === true;
    if (needsApproval) {
      const hook = api.createHook<ToolApproval>();
      await writer.write({
        type: "tool-approval-request",
        approvalId: hook.token,
        toolCallId,
      } satisfies UIMessageChunk);
      const approval = await hook;
      hook.dispose();
      if (approval?.approved !== true) {
        await writer.write({ type: "tool-output-denied", toolCallId } satisfies UIMessageChunk);
        return result({
          type: "execution-denied",
          ...(typeof approval?.reason === "string" ? { reason: approval.reason } : {}),
        });
      }
    }
    if (tool.execute === undefined) {
      const text = `Tool "${toolName}" has no execute function: give it one (a "use step" function, or workflow code).`;
      await writer.write({ type: "tool-output-error", toolCallId, errorText: text } satisfies UIMessageChunk);
      return result({ type: "error-text", value: text });
    }
    let output: unknown;
    try {
      output = await tool.execute(call.input, { toolCallId, messages: [...messages] });
    } catch (error) {
      // A tool that fails (after its step's retries) is reported to the model, which may try otherwise.
      const text = errorText(error);
      await writer.write({ type: "tool-output-error", toolCallId, errorText: text } satisfies UIMessageChunk);
      return result({ type: "error-text", value: text });
    }
    const problem = jsonProblem(output);
    if (problem !== undefined)
      throw new api.FatalError(
        `Tool "${toolName}" returned ${problem}; the model reads tool results as JSON. Return plain objects, arrays, strings, finite numbers, booleans or null (convert dates to strings, maps to objects).`,
      );
    await writer.write({ type: "tool-output-available", toolCallId, output } satisfies UIMessageChunk);
    return result(
      output === undefined ? { type: "json", value: null } : { type: "json", value: output as never },
    );
  }
}
