/**
 * `stepwise-workflows/ai`: durable agents on the AI SDK (`ai` 6, an optional peer dependency).
 * In workflow code, `DurableAgent` (the compiler maps this entry to `ai/workflow.ts` in the
 * sandbox); in the app, `createAgentStreamResponse` for the chat route and `WorkflowChatTransport`
 * for `useChat`. Loading this module on the host registers the agent's steps.
 */
import "./steps.ts";

export {
  type AgentStreamResponseOptions,
  createAgentStreamResponse,
  RUN_ID_HEADER,
  type StreamingRun,
  startIndexOf,
} from "./response.ts";
export type { JsonSchema, ModelRetries, ModelSettings } from "./step-names.ts";
export {
  type ApprovalAnswer,
  type TransportStorage,
  WorkflowChatTransport,
  type WorkflowChatTransportOptions,
} from "./transport.ts";
export {
  DurableAgent,
  type DurableAgentOptions,
  type DurableAgentResult,
  type DurableAgentStreamOptions,
  type DurableTool,
  type ToolApproval,
  type ToolCallInfo,
} from "./workflow.ts";
