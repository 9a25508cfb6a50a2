/**
 * `stepwise-workflows/api`: what application code uses to start runs (`start.ts`), look at them,
 * send them events, and resume their hooks.
 */
import { SerializationError } from "../errors/runtime.ts";
import { ensureWorker, getWorld } from "../runtime/process.ts";
import { registeredWorkflowIds } from "../runtime/registry.ts";
import { encodeValue } from "../serde/codec.ts";
import type { HookRecord } from "../world/types.ts";
import { deliverToHook } from "./deliver.ts";
import { Run } from "./run.ts";

export { configure, getWorld, shutdown } from "../runtime/process.ts";
export type { PauseOptions } from "./control.ts";
export { type SentEvent, sendEvent } from "./events.ts";
export type { RestartedRun, RestartOptions } from "./restart.ts";
export { Run, type WorkflowRunStatus } from "./run.ts";
export {
  MAX_START_BATCH,
  type StartArguments,
  type StartableWorkflow,
  type StartManyItem,
  type StartOptions,
  start,
  startMany,
} from "./start.ts";
export {
  type UpgradeResult,
  type UpgradeRunOptions,
  type UpgradeVerdict,
  upgradeRun,
} from "./upgrade.ts";
export { DEFAULT_WEBHOOK_TIMEOUT_MS, resumeWebhook } from "./webhooks.ts";

/** A handle on an existing run. Reading from it fails with `RunNotFoundError` if there is none. */
export function getRun<Result = unknown>(runId: string): Run<Result> {
  void ensureWorker();
  return new Run<Result>(runId);
}

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

/** The active hook listening on `token`. `HookNotFoundError` if none. */
export async function getHookByToken(token: string): Promise<HookInfo> {
  return hookInfo(await (await getWorld()).hooks.getByToken(token));
}

/**
 * Sends `payload` to the hook listening on `token`; the waiting workflow receives it. Once this
 * resolves, the payload is stored and will be delivered. Errors: `HookNotFoundError` for an
 * unknown token, `SerializationError` for a payload that cannot be stored, `PayloadTooLargeError`
 * for one over the per-payload limit or one that would take the run past its total
 * (`STEPWISE_MAX_RUN_BYTES`), `RunFinishedError` when the run has ended, `ConfigError` when the
 * run is encrypted and this process has no key. None writes anything.
 */
export async function resumeHook(token: string, payload: unknown): Promise<HookInfo> {
  const world = await getWorld();
  const hook = await world.hooks.getByToken(token);
  let text: string;
  try {
    text = encodeValue(payload);
  } catch (error) {
    throw new SerializationError(
      `The payload for hook ${token} cannot be serialized: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  await deliverToHook(world, hook, text, `The payload for hook ${token}`);
  await ensureWorker();
  return hookInfo(hook);
}

/** Ids of the workflows registered in this process. */
export function listWorkflows(): string[] {
  return registeredWorkflowIds();
}
