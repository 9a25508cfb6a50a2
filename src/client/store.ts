/**
 * The one place a value becomes stored bytes: encode (the value codec), encrypt (the payload
 * codec, bound to the run and the payload's place), check the per-payload limit, store. A run's
 * arguments (`start.ts`), a hook or webhook payload and an event's payload all go through
 * `sealPayload`, and those that go to a run's inbox through `storeInInbox`, which also lets the
 * World check the run's total as it stores — so `start`, `resumeHook`, `resumeWebhook`,
 * `sendEvent` and every door in front of them (HTTP, the CLI, a test environment) behave alike.
 */
import { PayloadTooLargeError, SerializationError } from "../errors/runtime.ts";
import { checkPayload, type Limits } from "../runtime/limits.ts";
import { encodeValue } from "../serde/codec.ts";
import type { PayloadCodec, PayloadScope } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import { newId } from "../util/ids.ts";
import type { HookRecord, InboxItem, NewInboxItem, RunRecord, World } from "../world/types.ts";

/** The codec and limits a payload is sealed with. @internal */
export interface SealContext {
  payloads: PayloadCodec;
  limits: Limits;
}

/** A value to seal: what it is, for whom, where, and how errors name it. @internal */
export interface PayloadToSeal {
  value: unknown;
  /** The run it belongs to (its id, whether it is encrypted, its spec version). */
  scope: PayloadScope;
  /** Its place in the run (`serde/places.ts`): encrypted payloads are bound to it. */
  place: string;
  /** How a size error names it: `The payload for hook t`. */
  what: string;
  /** How a serialization error names it (default `what`). */
  unserializable?: string;
}

/**
 * Encodes, encrypts and size-checks `payload`, returning the bytes to store. Errors, before
 * anything is written: `SerializationError` for a value the codec cannot store,
 * `PayloadTooLargeError` over the per-payload limit, `ConfigError` for an encrypted run without
 * a key. @internal
 */
export function sealPayload(using: SealContext, payload: PayloadToSeal): Uint8Array {
  let text: string;
  try {
    text = encodeValue(payload.value);
  } catch (error) {
    throw new SerializationError(
      `${payload.unserializable ?? payload.what} cannot be serialized: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const bytes = using.payloads.encode(payload.scope, payload.place, text);
  checkPayload(bytes.length, payload.what, using.limits);
  return bytes;
}

/**
 * Seals `value` for `item`'s run and puts it in the run's inbox, the World checking the run's
 * total (`limits.maxRunBytes`) as it stores. @internal
 */
export async function storeInInbox(
  world: World,
  using: SealContext,
  run: RunRecord,
  item: Omit<NewInboxItem, "payload"> & { itemId: string },
  payload: Omit<PayloadToSeal, "scope">,
): Promise<InboxItem> {
  const bytes = sealPayload(using, { ...payload, scope: run });
  try {
    return await world.inbox.put({ ...item, payload: bytes }, { maxRunBytes: using.limits.maxRunBytes });
  } catch (error) {
    if (!PayloadTooLargeError.is(error)) throw error;
    throw new PayloadTooLargeError(`${payload.what} was not delivered: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Stores `value` in the inbox of `hook`'s run, bound to the new inbox item (encrypted runs).
 * @internal shared by `resumeHook` and `resumeWebhook`.
 */
export async function deliverToHook(
  world: World,
  using: SealContext,
  hook: HookRecord,
  value: unknown,
  what: string,
): Promise<void> {
  const run = await world.runs.get(hook.runId);
  const itemId = newId("inbox");
  await storeInInbox(
    world,
    using,
    run,
    { itemId, runId: hook.runId, kind: "hook_payload", hookId: hook.hookId },
    { value, place: places.hookPayload(hook.hookId, itemId), what },
  );
}

/**
 * Stores `value` as an event of `eventType` in `run`'s inbox, bound to the event (its inbox item,
 * `evt_…`) and its type. Returns the item. @internal used by `sendEvent`.
 */
export function deliverEvent(
  world: World,
  using: SealContext,
  run: RunRecord,
  eventType: string,
  value: unknown,
  names: { what: string; unserializable: string },
): Promise<InboxItem> {
  const itemId = newId("evt");
  return storeInInbox(
    world,
    using,
    run,
    { itemId, runId: run.runId, kind: "event", eventType },
    { value, place: places.eventPayload(itemId, eventType), ...names },
  );
}
