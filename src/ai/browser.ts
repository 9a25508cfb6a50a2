/**
 * `stepwise-workflows/ai` in the browser (the `browser` condition of the entry): the chat transport
 * and the response helper, without the host's steps. Only web APIs.
 */

export {
  type AgentStreamResponseOptions,
  createAgentStreamResponse,
  RUN_ID_HEADER,
  type StreamingRun,
  startIndexOf,
} from "./response.ts";
export {
  type ApprovalAnswer,
  type TransportStorage,
  WorkflowChatTransport,
  type WorkflowChatTransportOptions,
} from "./transport.ts";
