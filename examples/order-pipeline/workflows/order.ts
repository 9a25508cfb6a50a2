/**
 * The demo workflow: an order pipeline. Validation, an inventory reservation that fails once and is
 * retried, a payment with an idempotency key, a durable cooling-off sleep, a human approval through
 * a hook, then shipping or a refund. Every step prints a line so the demo shows its progress.
 */
import { defineHook, FatalError, getStepMetadata, sleep } from "stepwise-workflows";

export interface Order {
  id: string;
  items: { sku: string; quantity: number; price: number }[];
}

export interface Approval {
  approved: boolean;
  by: string;
}

/** The approval a human gives (from the CLI: npx stepwise resume <token> '{"approved":true,"by":"me"}'). */
export const approval = defineHook<Approval>();

const attemptsBySku = new Map<string, number>();

function say(text: string): void {
  console.log(`  ${new Date().toISOString().slice(11, 23)}  ${text}`);
}

async function validateOrder(order: Order): Promise<number> {
  "use step";
  if (order.items.length === 0) throw new FatalError(`order ${order.id} has no items`);
  const total = order.items.reduce((sum, item) => sum + item.quantity * item.price, 0);
  say(`validated ${order.id}: ${order.items.length} item(s), total ${total.toFixed(2)}`);
  return total;
}

async function reserveInventory(order: Order): Promise<string> {
  "use step";
  const { attempt } = getStepMetadata();
  const key = order.id;
  attemptsBySku.set(key, (attemptsBySku.get(key) ?? 0) + 1);
  if (attempt === 1) {
    say(`inventory service timed out (attempt ${attempt}); Stepwise will retry`);
    throw new Error("inventory service timed out");
  }
  say(`reserved inventory for ${order.id} (attempt ${attempt})`);
  return `rsv-${order.id}`;
}
reserveInventory.retries = { delay: "500ms" };

async function chargePayment(order: Order, amount: number): Promise<string> {
  "use step";
  // The step id is stable across retries and replays: the payment provider's idempotency key.
  const { stepId } = getStepMetadata();
  say(`charged ${amount.toFixed(2)} for ${order.id} (idempotency key ${stepId.slice(0, 16)}…)`);
  return `pay-${stepId.slice(-8)}`;
}

async function ship(order: Order, reservation: string): Promise<string> {
  "use step";
  say(`shipped ${order.id} from ${reservation}`);
  return `trk-${order.id}`;
}

async function refund(order: Order, payment: string): Promise<void> {
  "use step";
  say(`refunded ${payment} for ${order.id}`);
}

export async function processOrder(order: Order) {
  "use workflow";
  const total = await validateOrder(order);
  const reservation = await reserveInventory(order);
  const payment = await chargePayment(order, total);
  // A durable pause: costs nothing while it waits, survives restarts.
  await sleep("2s");
  const decision = await approval.create({ token: `approve:${order.id}` });
  if (!decision.approved) {
    await refund(order, payment);
    return { order: order.id, status: "refunded", by: decision.by };
  }
  const tracking = await ship(order, reservation);
  return { order: order.id, status: "shipped", tracking, approvedBy: decision.by };
}
