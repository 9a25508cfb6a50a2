/**
 * Hooks seen from a client: looking one up by its token, and resuming it with a payload (stored
 * in its run's inbox through `store.ts`, where the waiting workflow receives it).
 */
import type { HookRecord, World } from "../world/types.ts";
import { deliverToHook, type SealContext } from "./store.ts";

/** Public information about an active hook. */
export interface HookInfo {
  hookId: string;
  token: string;
  runId: string;
  kind: "hook" | "webhook";
  createdAt: Date;
}

function hookInfo(record: HookRecord): HookInfo {
  return {
    hookId: record.hookId,
    token: record.token,
    runId: record.runId,
    kind: record.kind,
    createdAt: new Date(record.createdAt),
  };
}

/** The active hook listening on `token` in `world`. `HookNotFoundError` if none. @internal */
export async function hookByToken(world: World, token: string): Promise<HookInfo> {
  return hookInfo(await world.hooks.getByToken(token));
}

/**
 * Sends `payload` to the hook listening on `token` in `world`, sealed with `using` (see
 * `Client.resumeHook` for the errors; none writes anything). Shared by every client and
 * `stepwise-workflows/testing`. @internal
 */
export async function resumeHookIn(
  world: World,
  using: SealContext,
  token: string,
  payload: unknown,
): Promise<HookInfo> {
  const hook = await world.hooks.getByToken(token);
  await deliverToHook(world, using, hook, payload, `The payload for hook ${token}`);
  return hookInfo(hook);
}
