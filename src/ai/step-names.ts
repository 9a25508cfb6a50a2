/**
 * Ids of the durable agent's steps (registered on the host by `ai/steps.ts`, called from workflow
 * code by `ai/workflow.ts`), and the shapes that cross between the two. Shared so both sides
 * agree; no Node imports (it is bundled into the sandbox).
 */
import type { FinishReason, ModelMessage } from "ai";

export const AI_STEPS = {
  /** `UIMessage[]` from a chat into the model messages the loop keeps. */
  prepare: "step//stepwise//ai-prepare",
  /** One model call, streaming its UI message chunks to the run's stream. */
  model: "step//stepwise//ai-model",
} as const;

/** A JSON Schema object (the tool input schemas the model sees). */
export type JsonSchema = Record<string, unknown>;

/** A tool as the model step sees it: no code, only what the model is told. */
export interface ToolSpec {
  name: string;
  description?: string;
  inputSchema: JsonSchema;
}

/** How the model step retries a failed call (each attempt is an attempt of the step). */
export interface ModelRetries {
  /** Retries after the first attempt. Default 2 (3 attempts in all). */
  limit?: number;
  /** The first delay in ms, doubled after each attempt. Default 1000. */
  delay?: number;
}

/** The arguments of one model call. */
export interface ModelCall {
  model: string;
  system?: string;
  messages: ModelMessage[];
  tools: ToolSpec[];
  retries: Required<ModelRetries>;
  /** Passed through to the AI SDK (temperature, maxOutputTokens, ...). */
  settings?: ModelSettings;
}

/** Call settings passed to the AI SDK's `streamText` as they are. */
export interface ModelSettings {
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  seed?: number;
}

/** A tool call the model asked for. */
export interface ToolCallRequest {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

/** What a model step records: what the loop needs to go on. */
export interface ModelStepResult {
  /** The assistant (and provider-executed tool) messages of the call, to append to the conversation. */
  messages: ModelMessage[];
  finishReason: FinishReason;
  toolCalls: ToolCallRequest[];
  text: string;
}
