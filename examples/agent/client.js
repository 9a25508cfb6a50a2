/**
 * The example's page: `useChat` with `WorkflowChatTransport`, written in plain JavaScript with
 * `createElement`, so it needs no JSX or type build step (server.ts bundles it with esbuild). `resume: true` reconnects to an answer in progress after a reload;
 * a tool part waiting for approval shows Approve / Deny, and the answer is sent back to the run
 * (`sendAutomaticallyWhen` sends it through the transport as soon as it is given).
 */
import { useChat } from "@ai-sdk/react";
import { isToolUIPart, lastAssistantMessageIsCompleteWithApprovalResponses } from "ai";
import { createElement as h, useState } from "react";
import { createRoot } from "react-dom/client";
import { WorkflowChatTransport } from "stepwise-workflows/ai";

const transport = new WorkflowChatTransport();

/** One part of a message: text, or a tool call with its approval buttons and output. */
function Part({ part, onApprove }) {
  if (part.type === "text") return h("p", { className: "text" }, part.text);
  if (!isToolUIPart(part)) return null;
  const approval = part.state === "approval-requested" ? part.approval : undefined;
  return h(
    "div",
    { className: "tool", "data-state": part.state },
    h("code", null, `${part.type.slice(5)}(${JSON.stringify(part.input)})`),
    approval &&
      h(
        "span",
        null,
        h(
          "button",
          { type: "button", className: "approve", onClick: () => onApprove(approval.id, true) },
          "Approve",
        ),
        h(
          "button",
          { type: "button", className: "deny", onClick: () => onApprove(approval.id, false) },
          "Deny",
        ),
      ),
    part.state === "output-available" && h("pre", { className: "output" }, JSON.stringify(part.output)),
    part.state === "output-denied" && h("em", { className: "denied" }, "denied"),
  );
}

function Chat() {
  const { messages, sendMessage, status, error, addToolApprovalResponse } = useChat({
    id: "support",
    transport,
    resume: true,
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
  });
  const [input, setInput] = useState("");
  const submit = (event) => {
    event.preventDefault();
    if (input.trim() === "") return;
    void sendMessage({ text: input });
    setInput("");
  };
  const approve = (id, approved) => {
    void addToolApprovalResponse({ id, approved, ...(approved ? {} : { reason: "denied in the chat" }) });
  };
  return h(
    "main",
    null,
    h("h1", null, "Durable support agent"),
    h("div", { id: "status", "data-status": status }, status),
    error && h("div", { id: "error" }, error.message),
    ...messages.map((message) =>
      h(
        "section",
        { key: message.id, className: `message ${message.role}` },
        ...message.parts.map((part, i) => h(Part, { key: i, part, onApprove: approve })),
      ),
    ),
    h(
      "form",
      { onSubmit: submit },
      h("input", { id: "prompt", value: input, onChange: (e) => setInput(e.target.value) }),
      h("button", { id: "send", type: "submit" }, "Send"),
    ),
  );
}

const root = document.getElementById("root");
if (root !== null) createRoot(root).render(h(Chat));
