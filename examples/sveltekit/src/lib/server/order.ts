/**
 * The SvelteKit example's workflow, in server-only code (src/lib/server): an order that reports its
 * progress on the run's durable stream (the page reads it through the run API's stream route),
 * waits for a human approval through a hook (the page's button resumes it), then ships.
 */
import { createHook, getWritable } from "stepwise-workflows";

export interface Approval {
  approved: boolean;
  by: string;
}

/** The token of an order's approval hook: the page's button resumes it by this token. */
export function approvalToken(orderId: string): string {
  return `approve:${orderId}`;
}

/** Appends a line to the run's stream (called from steps). */
async function report(message: string): Promise<void> {
  const writer = getWritable<string>().getWriter();
  await writer.write(message);
  writer.releaseLock();
}

async function progress(message: string): Promise<void> {
  "use step";
  await report(message);
}

async function reserve(item: string, quantity: number): Promise<string> {
  "use step";
  await report(`reserved ${quantity} × ${item}`);
  return `rsv-${item}-${quantity}`;
}

async function ship(orderId: string, reservation: string): Promise<string> {
  "use step";
  await report(`shipped ${orderId} from ${reservation}`);
  return `trk-${orderId}`;
}

/** Reserves the items, waits for approval, then ships (or stops when refused). */
export async function placeOrder(orderId: string, item: string, quantity: number) {
  "use workflow";
  await progress(`order ${orderId} received`);
  const reservation = await reserve(item, quantity);
  await progress("waiting for approval");
  const decision = await createHook<Approval>({ token: approvalToken(orderId) });
  if (!decision.approved) {
    await progress(`refused by ${decision.by}`);
    return { orderId, status: "refused" as const };
  }
  await progress(`approved by ${decision.by}`);
  const tracking = await ship(orderId, reservation);
  await progress("done");
  return { orderId, status: "shipped" as const, tracking };
}
