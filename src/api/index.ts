/**
 * `stepwise-workflows/api`: what application code uses to start runs, look at them, send them events,
 * and resume their hooks.
 */
import { SerializationError } from "../errors/runtime.ts";
import { checkPayload } from "../runtime/limits.ts";
import { ensureWorker, getLimits, getPayloadCodec, getWorld } from "../runtime/process.ts";
import { registeredWorkflowIds, resolveWorkflowId, type WorkflowReference } from "../runtime/registry.ts";
import { SPEC_VERSION } from "../runtime/version.ts";
import { encodeValue } from "../serde/codec.ts";
import { places } from "../serde/places.ts";
import { newId, newRunSeed } from "../util/ids.ts";
import type { HookRecord } from "../world/types.ts";
import { deliverToHook } from "./deliver.ts";
import { Run } from "./run.ts";

export { configure, getWorld, shutdown } from "../runtime/process.ts";
export { type SentEvent, sendEvent } from "./events.ts";
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
 * What `start()` takes after the workflow: its arguments as an array, which may be left out only
 * when the workflow can be called without any (no parameters, optional or rest ones). `Args` is
 * inferred from the workflow alone (`NoInfer`), so `start(signup)` and `start(signup, [])` do not
 * type-check when `signup(email: string)` needs an argument.
 */
export type StartArguments<Args extends unknown[]> = [] extends Args
  ? [args?: NoInfer<Args>]
  : [args: NoInfer<Args>];

/**
 * Starts a run of `workflow` with `args` and returns its handle at once; the run executes in the
 * in-process worker (unless STEPWISE_WORKER=0) or in any worker sharing the World. `args` is an
 * array of the workflow's arguments; a workflow without required parameters starts with
 * `start(workflow)`.
 * Errors: `WorkflowNotRegisteredError` when `workflow` is not a registered workflow,
 * `SerializationError` when the arguments cannot be stored, `PayloadTooLargeError` when they are
 * over the per-payload limit. None writes anything.
 */
export async function start<Args extends unknown[], Result>(
  workflow: StartableWorkflow<Args, Result>,
  ...rest: StartArguments<Args>
): Promise<Run<Result>> {
  const workflowId = resolveWorkflowId(workflow);
  const text = encodeArguments(workflowId, rest[0] ?? []);
  const runId = newId("wrun");
  const codec = getPayloadCodec();
  // A run started with a key is encrypted for its whole life (see serde/payload.ts).
  const scope = { runId, encrypted: codec.keyId !== undefined, specVersion: SPEC_VERSION };
  const input = codec.encode(scope, places.runInput, text);
  checkPayload(input.length, `The arguments of workflow ${workflowId}`, getLimits());
  const world = await getWorld();
  await world.runs.create({
    runId,
    workflowName: workflowId,
    specVersion: SPEC_VERSION,
    seed: newRunSeed(),
    encrypted: scope.encrypted,
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
