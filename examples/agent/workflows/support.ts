/**
 * The example's agent: a support assistant whose tools are steps. `refundOrder` moves money, so
 * it needs a human's approval: the run waits on a hook (for days if need be) until the chat
 * answers.
 */
import { appendFileSync } from "node:fs";
import type { UIMessage } from "ai";
import { DurableAgent } from "stepwise-workflows/ai";

async function lookupOrder(input: { orderId: string }) {
  "use step";
  return { orderId: input.orderId, status: "delivered", total: 40 };
}

async function refundOrder(input: { orderId: string; amount: number }) {
  "use step";
  if (process.env.AGENT_LOG) appendFileSync(process.env.AGENT_LOG, `tool refundOrder ${input.orderId}\n`);
  return { orderId: input.orderId, refunded: input.amount };
}

export async function support(messages: UIMessage[]) {
  "use workflow";
  const agent = new DurableAgent({
    model: "demo",
    system: "You are the support assistant of a small shop.",
    tools: {
      lookupOrder: {
        description: "Look an order up",
        inputSchema: { type: "object", properties: { orderId: { type: "string" } }, required: ["orderId"] },
        execute: lookupOrder,
      },
      refundOrder: {
        description: "Refund an order",
        inputSchema: {
          type: "object",
          properties: { orderId: { type: "string" }, amount: { type: "number" } },
          required: ["orderId", "amount"],
        },
        needsApproval: true,
        execute: refundOrder,
      },
    },
  });
  const result = await agent.stream({ messages });
  return result.text;
}
