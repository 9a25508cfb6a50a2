/**
 * Delivering a payload to a hook or an event to a run: the one place where a hook or webhook
 * payload, or an event's payload, becomes stored bytes in its run's inbox (encoded for the run,
 * bound to its inbox item, checked against the limits) — so `resumeHook`, `resumeWebhook`,
 * `sendEvent` and every door in front of them behave alike.
 */
import { PayloadTooLargeError } from "../errors/runtime.ts";
import { checkPayload, type Limits } from "../runtime/limits.ts";
import { getLimits, getPayloadCodec } from "../runtime/process.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import { newId } from "../util/ids.ts";
import type { HookRecord, InboxItem, NewInboxItem, RunRecord, World } from "../world/types.ts";

/** The codec and limits a delivery uses: the process's, or a test environment's. @internal */
export interface DeliveryContext {
  payloads: PayloadCodec;
  limits: Limits;
}

const processContext = (): DeliveryContext => ({ payloads: getPayloadCodec(), limits: getLimits() });

/**
 * Stores codec `text` in the inbox of `hook`'s run, bound to the new inbox item (encrypted runs),
 * checked against the per-payload limit here and the run's total by the World as it stores.
 * @internal shared by `resumeHook` and `resumeWebhook`.
 */
export async function deliverToHook(
  world: World,
  hook: HookRecord,
  text: string,
  what: string,
  using: DeliveryContext = processContext(),
): Promise<void> {
  const run = await world.runs.get(hook.runId);
  const itemId = newId("inbox");
  const bytes = using.payloads.encode(run, places.hookPayload(hook.hookId, itemId), text);
  await putChecked(
    world,
    { itemId, runId: hook.runId, kind: "hook_payload", hookId: hook.hookId },
    bytes,
    what,
    using.limits,
  );
}

/**
 * Stores codec `text` as an event of `eventType` in `run`'s inbox, bound to the event (its inbox
 * item, `evt_…`) and its type, checked against the limits as a hook payload is. Returns the item.
 * @internal used by `sendEvent`.
 */
export async function deliverEvent(
  world: World,
  run: RunRecord,
  eventType: string,
  text: string,
  what: string,
  using: DeliveryContext = processContext(),
): Promise<InboxItem> {
  const itemId = newId("evt");
  const bytes = using.payloads.encode(run, places.eventPayload(itemId, eventType), text);
  const item = { itemId, runId: run.runId, kind: "event" as const, eventType };
  return putChecked(world, item, bytes, what, using.limits);
}

/** `inbox.put` of `bytes`, within the per-payload limit here and the run's total in the World. */
async function putChecked(
  world: World,
  item: Omit<NewInboxItem, "payload">,
  bytes: Uint8Array,
  what: string,
  limits: Limits,
): Promise<InboxItem> {
  checkPayload(bytes.length, what, limits);
  try {
    return await world.inbox.put({ ...item, payload: bytes }, { maxRunBytes: limits.maxRunBytes });
  } catch (error) {
    if (!PayloadTooLargeError.is(error)) throw error;
    throw new PayloadTooLargeError(`${what} was not delivered: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
