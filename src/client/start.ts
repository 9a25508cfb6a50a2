/**
 * Starting runs: `start()` one, `startMany()` a batch in one transaction, both under generated ids
 * or ids the application chooses (`Client.start`, `Client.startMany`). Every way in (the API,
 * `POST /runs`, `npx stepwise start`, a test environment) goes through `prepareRuns`, and all but
 * the test environment through `startRuns`, which checks everything before anything is written — the ids, the
 * arguments (serializable, within the per-payload limit), the size of the batch — encodes each
 * run's input for its own id, and creates the runs with one `runs.createMany`: idempotent on the
 * id (the same id and workflow return the existing run), all or nothing per batch.
 */
import {
  BatchTooLargeError,
  InvalidRunIdError,
  PayloadTooLargeError,
  SerializationError,
} from "../errors/runtime.ts";
import { storeBundle } from "../runtime/bundles.ts";
import { formatBytes } from "../runtime/limits.ts";
import { getWorkflowBundle, type WorkflowReference } from "../runtime/registry.ts";
import { loadTracing } from "../runtime/tracing.ts";
import { SPEC_VERSION } from "../runtime/version.ts";
import { places } from "../serde/places.ts";
import { newId, newRunSeed, RUN_ID_RULE, runIdProblem } from "../util/ids.ts";
import type { CreateRunInput, RunStatus } from "../world/types.ts";
import type { ClientContext } from "./context.ts";
import type { Run } from "./run.ts";
import { traceStarts } from "./start-trace.ts";
import { type SealContext, sealPayload } from "./store.ts";

/** The most runs one `startMany()` call starts: one batch, one transaction. */
export const MAX_START_BATCH = 1000;

/** A workflow as `start()` accepts it: a function marked "use workflow", or its reference. */
export type StartableWorkflow<Args extends unknown[], Result> =
  | ((...args: Args) => Promise<Result>)
  | WorkflowReference<Args, Result>;

/** Options of `start()`. */
export interface StartOptions {
  /**
   * The run's id, instead of a generated `wrun_…`: 1 to 100 characters of letters, digits, `_`,
   * `.`, `:` and `-` (`InvalidRunIdError` otherwise). Starting again with the same id and the same
   * workflow returns the existing run (whatever its arguments or status; nothing new is started);
   * under another workflow it is a `RunIdConflictError`.
   */
  id?: string;
}

/**
 * What `start()` takes after the workflow: its arguments as an array, which may be left out only
 * when the workflow can be called without any (no parameters, optional or rest ones), then the
 * options. `Args` is inferred from the workflow alone (`NoInfer`), so `start(signup)` and
 * `start(signup, [])` do not type-check when `signup(email: string)` needs an argument.
 */
export type StartArguments<Args extends unknown[]> = [] extends Args
  ? [args?: NoInfer<Args>, options?: StartOptions]
  : [args: NoInfer<Args>, options?: StartOptions];

/**
 * One run of a `startMany()` batch: its arguments (which may be left out when the workflow needs
 * none) and, optionally, its id (see `StartOptions.id`).
 */
export type StartManyItem<Args extends unknown[]> = ([] extends Args
  ? { args?: NoInfer<Args> }
  : { args: NoInfer<Args> }) & { id?: string };

/** A run `startRuns` started or found. @internal */
export interface StartedRun<Result = unknown> {
  run: Run<Result>;
  /** False when a run with the same id and workflow existed already and was returned instead. */
  created: boolean;
  /** The run's status when it was started or found. */
  status: RunStatus;
}

/** One run to start, as `startRuns` takes it (checked there, since it may come from JavaScript or HTTP). */
export interface RunToStart {
  args?: unknown;
  id?: unknown;
}

function checkArguments(workflowId: string, args: unknown, where: string): unknown[] {
  if (!Array.isArray(args)) {
    throw new SerializationError(
      `start(${workflowId}, args) expects the arguments as an array, e.g. start(workflow, ["order-1"])${where}.`,
    );
  }
  return args;
}

/** The id a run will have: the one given (checked), or a generated one. */
function runIdOf(id: unknown, where: string): string {
  if (id === undefined) return newId("wrun");
  const problem = runIdProblem(id);
  if (problem === undefined) return id as string;
  const shown = typeof id === "string" ? JSON.stringify(id.length > 120 ? `${id.slice(0, 120)}…` : id) : "";
  throw new InvalidRunIdError(id, `The run id ${shown}${where} is not valid: ${problem}. ${RUN_ID_RULE}`);
}

/**
 * Starts runs of the workflow `workflowId` (already resolved): checks every item, then creates
 * them in one transaction (see the file header) in `context`'s World, tells the context it was
 * used (the process's client starts its in-process worker), and returns a handle per item, made
 * by `handle`, in order. Errors, none of which writes anything: `BatchTooLargeError` past
 * `MAX_START_BATCH`, `InvalidRunIdError`, `SerializationError`, `PayloadTooLargeError` (an item's
 * arguments over the per-payload limit, or a batch's together), `RunIdConflictError`. The one
 * place runs are started. @internal
 */
export async function startRuns(
  context: ClientContext,
  handle: (runId: string) => Run,
  workflowId: string,
  items: readonly RunToStart[],
): Promise<StartedRun[]> {
  const payloads = context.payloads();
  const inputs = prepareRuns(workflowId, items, { payloads, limits: context.limits() });
  if (inputs.length === 0) return [];
  const world = await context.world();
  // Pinned to the code that starts them (a process without it, a client, leaves that to the
  // worker that first runs them).
  const bundle = getWorkflowBundle(workflowId);
  if (bundle !== undefined) {
    await storeBundle(world, bundle, payloads);
    for (const input of inputs) input.bundleHash = bundle.hash;
  }
  // Each run records the trace it starts in (start-trace.ts; nothing without OpenTelemetry).
  await loadTracing();
  const endSpans = traceStarts(workflowId, inputs);
  let results: Awaited<ReturnType<typeof world.runs.createMany>>;
  try {
    results = await world.runs.createMany(inputs);
  } catch (error) {
    endSpans?.({ error });
    throw error;
  }
  endSpans?.({ created: results });
  await context.used();
  return results.map(({ run, created }) => ({ run: handle(run.runId), created, status: run.status }));
}

/**
 * The runs `startRuns` creates, checked and sealed with `using`'s codec within its limits (the
 * same errors, before anything is written). Shared with `stepwise-workflows/testing`. @internal
 */
export function prepareRuns(
  workflowId: string,
  items: readonly RunToStart[],
  using: SealContext,
): CreateRunInput[] {
  const { payloads: codec, limits } = using;
  if (items.length > MAX_START_BATCH) throw new BatchTooLargeError(items.length, MAX_START_BATCH);
  const batch = items.length > 1;
  let total = 0;
  const inputs = items.map((item, index): CreateRunInput => {
    const where = batch ? ` (item ${index} of the batch)` : "";
    const runId = runIdOf(item.id, where);
    const args = checkArguments(workflowId, item.args ?? [], where);
    // A run started with a key is encrypted for its whole life (see serde/payload.ts).
    const scope = { runId, encrypted: codec.keyId !== undefined, specVersion: SPEC_VERSION };
    const input = sealPayload(using, {
      value: args,
      scope,
      place: places.runInput,
      what: `The arguments of workflow ${workflowId}${where}`,
      unserializable: `The arguments for ${workflowId}${where}`,
    });
    total += input.length;
    return {
      runId,
      workflowName: workflowId,
      specVersion: SPEC_VERSION,
      seed: newRunSeed(),
      encrypted: scope.encrypted,
      input,
    };
  });
  if (total > limits.maxPayloadBytes) {
    throw new PayloadTooLargeError(
      `The arguments of this batch of ${items.length} runs of ${workflowId} take ${formatBytes(total)} together; a batch holds at most ${formatBytes(limits.maxPayloadBytes)} (the per-payload limit, STEPWISE_MAX_PAYLOAD_BYTES). Start them in smaller batches.`,
    );
  }
  return inputs;
}

/**
 * The item `start(workflow, args, options)` starts, its options checked (`InvalidRunIdError` for
 * options that are not an object). @internal used by `Client.start`.
 */
export function startItem(workflowId: string, rest: readonly unknown[]): RunToStart {
  const [args, options] = rest as [unknown, unknown];
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new InvalidRunIdError(
      options,
      `start(${workflowId}, args, options) takes its options as an object, e.g. { id: "order-1234" }; got ${options === null ? "null" : typeof options}.`,
    );
  }
  return { args: args ?? [], id: (options as StartOptions)?.id };
}

/**
 * The items `startMany(workflow, items)` starts, checked to be an array of objects
 * (`SerializationError` otherwise). @internal used by `Client.startMany`.
 */
export function startManyItems(workflowId: string, items: unknown): RunToStart[] {
  if (!Array.isArray(items)) {
    throw new SerializationError(
      `startMany(${workflowId}, items) expects an array of { args, id? }, e.g. startMany(workflow, [{ args: ["order-1"] }]).`,
    );
  }
  return (items as readonly unknown[]).map((item, index): RunToStart => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new SerializationError(
        `startMany(${workflowId}, items): item ${index} is not an object { args, id? }; to pass arguments, write { args: [...] }.`,
      );
    }
    return item as RunToStart;
  });
}
