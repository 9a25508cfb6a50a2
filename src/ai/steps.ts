/**
 * The durable agent's steps, on the host: `prepare` turns a chat's `UIMessage[]` into model
 * messages, `model` makes one model call with the AI SDK (`streamText`, tools given without
 * `execute`, so the workflow runs them) and streams its UI message chunks into the run's stream as
 * they come. A failed call is retried as attempts of its step, under the agent's `modelRetries`
 * (RetryableError with the delay, then FatalError naming what to check); its partial chunks stay
 * in the stream (chunks cannot be taken back), and the next attempt's text is a part of its own:
 * part ids carry the step id and the attempt. Registered when `stepwise-workflows/ai`
 * loads, under ids in the reserved `step//stepwise//` namespace.
 */
import {
  convertToModelMessages,
  jsonSchema,
  NoSuchModelError,
  streamText,
  tool,
  type UIMessage,
  type UIMessageChunk,
} from "ai";
import { FatalError, RetryableError } from "../errors/user.ts";
import { registerStep } from "../runtime/registry.ts";
import { stepContext } from "../runtime/step-context.ts";
import { AI_STEPS, type ModelCall, type ModelStepResult } from "./step-names.ts";

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function prepare(messages: UIMessage[]) {
  return convertToModelMessages(messages);
}

async function callModel(
  call: ModelCall,
  writable: WritableStream<UIMessageChunk>,
): Promise<ModelStepResult> {
  const context = stepContext.getStore();
  const attempt = context?.attempt ?? 1;
  const partPrefix = `${context?.stepId ?? "step"}-${attempt}-`;
  const tools = Object.fromEntries(
    call.tools.map((spec) => [
      spec.name,
      tool({
        ...(spec.description === undefined ? {} : { description: spec.description }),
        inputSchema: jsonSchema(spec.inputSchema),
      }),
    ]),
  );
  let failure: unknown;
  const writer = writable.getWriter();
  try {
    const result = streamText({
      model: call.model,
      messages: call.messages,
      tools,
      maxRetries: 0,
      ...(call.system === undefined ? {} : { system: call.system }),
      ...call.settings,
      ...(context === undefined ? {} : { abortSignal: context.signal }),
      onError: ({ error }) => {
        failure ??= error;
      },
    });
    const chunks = result.toUIMessageStream({
      sendStart: false,
      sendFinish: false,
      onError: (error) => {
        failure ??= error;
        return describe(error);
      },
    });
    for await (const chunk of chunks) {
      // A failed attempt is retried: its error goes to the chat only when no attempt is left.
      if (chunk.type === "error") continue;
      // Part ids are made unique per attempt, so a retried call's text is a part of its own rather
      // than deltas appended to the interrupted attempt's part.
      await writer.write("id" in chunk ? { ...chunk, id: `${partPrefix}${chunk.id}` } : chunk);
    }
    if (failure === undefined) {
      const [response, finishReason, toolCalls, text] = await Promise.all([
        result.response,
        result.finishReason,
        result.toolCalls,
        result.text,
      ]);
      return {
        messages: response.messages,
        finishReason,
        text,
        toolCalls: toolCalls.map((c) => ({ toolCallId: c.toolCallId, toolName: c.toolName, input: c.input })),
      };
    }
  } catch (error) {
    failure ??= error;
  } finally {
    writer.releaseLock();
  }
  if (NoSuchModelError.isInstance(failure))
    throw new FatalError(
      `The AI SDK knows no model "${call.model}" (${describe(failure)}). Set globalThis.AI_SDK_DEFAULT_PROVIDER in the worker process (customProvider or createProviderRegistry from "ai") to a provider that has it, or use an AI Gateway id ("provider/model").`,
    );
  const { limit, delay } = call.retries;
  if (attempt <= limit)
    throw new RetryableError(
      `Model "${call.model}" failed (attempt ${attempt} of ${limit + 1}): ${describe(failure)}`,
      {
        retryAfter: delay * 2 ** (attempt - 1),
      },
    );
  throw new FatalError(
    `Model "${call.model}" failed ${attempt} time(s); the last error: ${describe(failure)}. Check the provider (credentials, quota, the model id), then send the message again; raise DurableAgent's modelRetries to wait longer.`,
  );
}

registerStep(AI_STEPS.prepare, prepare);
registerStep(AI_STEPS.model, callModel);
