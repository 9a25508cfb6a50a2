/**
 * `stepwise/api`: what application code uses to start runs, look at them, and resume their hooks.
 */
import { SerializationError } from "../errors/runtime.ts";
import { checkPayload } from "../runtime/limits.ts";
import { ensureWorker, getLimits, getPayloadCodec, getWorld } from "../runtime/process.ts";
import { registeredWorkflowIds, resolveWorkflowId, type WorkflowReference } from "../runtime/registry.ts";
import { SPEC_VERSION } from "../runtime/version.ts";
import { encodeValue } from "../serde/codec.ts";
import { newId, newRunSeed } from "../util/ids.ts";
import type { HookRecord } from "../world/types.ts";
import { Run } from "./run.ts";

export { configure, getWorld, shutdown } from "../runtime/process.ts";
export { Run, type WorkflowRunStatus } from "./run.ts";
export { DEFAULT_WEBHOOK_TIMEOUT_MS, resumeWebhook } from "./webhooks.ts";

/** A workflow as `start()` accepts it: a function marked "use workflow", or its reference. */
export type StartableWorkflow<Args extends unknown[], Result> =
  | ((...args: Args) => Promise<Result>)
  | WorkflowReference<Args, Result>;

function encodeArguments(workflowId: string, args: unknown): string {
  if (!Array.isArray(args)) {
    throw new SerializationError(
      `start(${workflowId}, args) expects the arguments as an array, e.g. start(workflow, ["order-1"]).`,
    );
  }
  try {
    return encodeValue(args);
  } catch (error) {
    throw new SerializationError(
      `The arguments for ${workflowId} cannot be serialized: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Starts a run of `workflow` with `args` and returns its handle at once; the run executes in the
 * in-process worker (unless STEPWISE_WORKER=0) or in any worker sharing the World.
 * Errors: `WorkflowNotRegisteredError` when `workflow` is not a registered workflow,
 * `SerializationError` when the arguments cannot be stored, `PayloadTooLargeError` when they are
 * over the per-payload limit. None writes anything.
 */
export async function start<Args extends unknown[], Result>(
  workflow: StartableWorkflow<Args, Result>,
  args: NoInfer<Args> | [] = [],
): Promise<Run<Result>> {
  const workflowId = resolveWorkflowId(workflow);
  const text = encodeArguments(workflowId, args);
  const runId = newId("wrun");
  const input = getPayloadCodec().encode(runId, text);
  checkPayload(input.length, `The arguments of workflow ${workflowId}`, getLimits());
  const world = await getWorld();
  await world.runs.create({
    runId,
    workflowName: workflowId,
    specVersion: SPEC_VERSION,
    seed: newRunSeed(),
    input,
  });
  await ensureWorker();
  return new Run<Result>(runId);
}

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
 * Sends `payload` to the hook listening on `token`; the waiting workflow receives it. Errors:
 * `HookNotFoundError` for an unknown token, `SerializationError` for a payload that cannot be
 * stored, `PayloadTooLargeError` for one over the per-payload limit. None writes anything.
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
  const bytes = getPayloadCodec().encode(hook.runId, text);
  checkPayload(bytes.length, `The payload for hook ${token}`, getLimits());
  await world.inbox.put({ runId: hook.runId, kind: "hook_payload", hookId: hook.hookId, payload: bytes });
  await ensureWorker();
  return hookInfo(hook);
}

/** Ids of the workflows registered in this process. */
export function listWorkflows(): string[] {
  return registeredWorkflowIds();
}
