"use server";
// Server actions: start an order's workflow, and resume its approval hook.
import { redirect } from "next/navigation";
import { resumeHook, start } from "stepwise-workflows/api";
import { approvalToken, placeOrder } from "../workflows/order";

/** Starts the workflow from the form, then shows the run's page. */
export async function placeOrderAction(formData) {
  const orderId = String(formData.get("orderId") || `order-${Date.now()}`);
  const item = String(formData.get("item") || "widget");
  const quantity = Number(formData.get("quantity") || 1);
  const run = await start(placeOrder, [orderId, item, quantity]);
  redirect(`/runs/${encodeURIComponent(run.runId)}?order=${encodeURIComponent(orderId)}`);
}

/** Resumes the order's approval hook (the page's button). */
export async function approveAction(orderId) {
  await resumeHook(approvalToken(orderId), { approved: true, by: "the example page" });
}
