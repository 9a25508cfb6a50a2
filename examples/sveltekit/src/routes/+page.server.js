// The form action: starts an order's workflow, then shows the run's page.
import { redirect } from "@sveltejs/kit";
import { start } from "stepwise-workflows/api";
import { placeOrder } from "$lib/server/order";

/** @type {import("./$types").Actions} */
export const actions = {
  default: async ({ request }) => {
    const form = await request.formData();
    const orderId = String(form.get("orderId") || `order-${Date.now()}`);
    const item = String(form.get("item") || "widget");
    const quantity = Number(form.get("quantity") || 1);
    const run = await start(placeOrder, [orderId, item, quantity]);
    redirect(303, `/runs/${encodeURIComponent(run.runId)}?order=${encodeURIComponent(orderId)}`);
  },
};
