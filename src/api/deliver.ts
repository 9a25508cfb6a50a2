/**
 * Delivering a payload to a hook: the one place where a hook or webhook payload becomes stored
 * bytes in its run's inbox (encoded for the run, bound to its inbox item, checked against the
 * limits) — so `resumeHook`, `resumeWebhook` and every door in front of them behave alike.
 */
import { PayloadTooLargeError } from "../errors/runtime.ts";
import { checkPayload } from "../runtime/limits.ts";
import { getLimits, getPayloadCodec } from "../runtime/process.ts";
import { places } from "../serde/places.ts";
import { newId } from "../util/ids.ts";
import type { HookRecord, World } from "../world/types.ts";

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
): Promise<void> {
  const run = await world.runs.get(hook.runId);
  const itemId = newId("inbox");
  const bytes = getPayloadCodec().encode(run, places.hookPayload(hook.hookId, itemId), text);
  const limits = getLimits();
  checkPayload(bytes.length, what, limits);
  try {
    await world.inbox.put(
      { itemId, runId: hook.runId, kind: "hook_payload", hookId: hook.hookId, payload: bytes },
      { maxRunBytes: limits.maxRunBytes },
    );
  } catch (error) {
    if (!PayloadTooLargeError.is(error)) throw error;
    throw new PayloadTooLargeError(`${what} was not delivered: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
