/**
 * What this process knows how to run: step bodies (host functions) and workflow bundles (scripts
 * evaluated in the sandbox), each under its stable id. The compiler's output calls these; so can
 * tests and hand-written integrations.
 *
 *   step ids:      step//<path relative to the project root>//<function name>
 *   workflow ids:  workflow//<path relative to the project root>//<function name>
 */
import { createHash } from "node:crypto";
import vm from "node:vm";
import { WorkflowNotRegisteredError } from "../errors/runtime.ts";
import { RUN_GLOBAL_NAMES } from "../workflow/determinism.ts";
import { SANDBOX_KEY } from "../workflow/protocol.ts";
import { guardStepTimeout } from "./step-timeout.ts";

/** A step body, with the optional retry and timeout settings users attach to the function object. */
export type StepFunction = ((...args: never[]) => unknown) & StepConfig;

export interface RetryConfig {
  /** How many retries after the first attempt (same as `maxRetries`). */
  limit?: number;
  /** First delay: ms or a duration string. Default 5 s. */
  delay?: number | string;
  /** How the delay grows: "exponential" (default), "linear" or "constant". */
  backoff?: "constant" | "linear" | "exponential";
}

export interface StepConfig {
  /** Retries after the first attempt; the default is 63 (64 attempts in all). */
  maxRetries?: number;
  retries?: RetryConfig;
  /**
   * How long one attempt may run: milliseconds or a duration string (`'30s'`, `'5m'`). When it runs
   * out, the attempt's `getStepMetadata().signal` aborts with a `StepTimeoutError` and the attempt
   * counts as failed (retried under `retries`). No timeout by default.
   */
  timeout?: number | string;
}

export interface WorkflowBundle {
  /** Where the bundle came from, for stack traces. */
  filename: string;
  script: vm.Script;
  workflowIds: readonly string[];
  /**
   * The content hash of its code (`bundleHash`): the version of the workflow code a run started
   * with, which it replays with wherever it goes (runs are pinned to it).
   */
  hash: string;
  /** The code, as registered (what is stored in the World for runs pinned to it). */
  code: string;
}

export interface WorkflowBundleSource {
  /** A script (not a module) that registers workflows through the sandbox registrar. */
  code: string;
  filename: string;
  workflowIds: readonly string[];
}

/** What `start()` accepts: the reference the compiler puts where a workflow function was. */
export interface WorkflowReference<Args extends unknown[] = unknown[], Result = unknown> {
  readonly workflowId: string;
  /** Type-only markers, so `start(ref, args)` checks the arguments and the result. */
  readonly __args?: Args;
  readonly __result?: Result;
}

const steps = new Map<string, StepFunction>();
const workflows = new Map<string, WorkflowBundle>();
/** Every bundle this process has, by hash: the registered ones and earlier versions loaded for pinned runs. */
const versions = new Map<string, WorkflowBundle>();
const listeners = new Set<() => void>();
/** `registeredWorkflowList()`'s answer until the next registration. */
let workflowList: readonly string[] | undefined;

/**
 * Registers a step body under its id. Its `timeout`, if set, is checked now, and every later
 * `fn.timeout = …` is checked as it is assigned: `InvalidDurationError` for a malformed one.
 */
export function registerStep(stepName: string, fn: StepFunction): void {
  guardStepTimeout(fn, stepName);
  steps.set(stepName, fn);
}

/** Removes a step from this process's code (tests: a worker deployed without it). */
export function unregisterStep(stepName: string): void {
  steps.delete(stepName);
}

export function getStep(stepName: string): StepFunction | undefined {
  return steps.get(stepName);
}

/** The id a step function is registered under (the function a module exports), if it is one. */
export function stepIdOf(fn: unknown): string | undefined {
  for (const [id, registered] of steps) if (registered === fn) return id;
  return undefined;
}

/** Registers a sandbox bundle defining `workflowIds`. Later registrations of an id replace earlier. */
export function registerWorkflowBundle(source: WorkflowBundleSource): void {
  const bundle = compileBundle(source, bundleHash(source.code));
  versions.set(bundle.hash, bundle);
  for (const id of source.workflowIds) workflows.set(id, bundle);
  workflowList = undefined;
  for (const listener of listeners) listener();
}

/** The content hash of bundle code: hex SHA-256 of its UTF-8 text. */
export function bundleHash(code: string): string {
  return createHash("sha256").update(code, "utf8").digest("hex");
}

function compileBundle(source: WorkflowBundleSource, hash: string): WorkflowBundle {
  const script = new vm.Script(wrapBundle(source.code), { filename: source.filename });
  return { filename: source.filename, script, workflowIds: source.workflowIds, hash, code: source.code };
}

/** The bundle with this hash, if this process has it (registered, or loaded for a pinned run). */
export function getBundleVersion(hash: string): WorkflowBundle | undefined {
  return versions.get(hash);
}

/**
 * Makes an earlier version of a bundle available by its hash, for runs pinned to it, without
 * registering its workflows (new runs use the registered code). The caller checks that `hash` is
 * the hash of `source.code`.
 */
export function loadBundleVersion(source: WorkflowBundleSource, hash: string): WorkflowBundle {
  const known = versions.get(hash);
  if (known !== undefined) return known;
  const bundle = compileBundle(source, hash);
  versions.set(hash, bundle);
  return bundle;
}

/**
 * Wraps bundle code so that, for each run, it sees that run's globals as lexical bindings and runs
 * in strict mode (an undeclared assignment is an error instead of a shared global). The prologue
 * stays on the first line, so line numbers (and source maps) are unchanged.
 */
function wrapBundle(code: string): string {
  const names = RUN_GLOBAL_NAMES.join(", ");
  return `(function (${names}) { "use strict"; ${code}\n})(...globalThis[Symbol.for("${SANDBOX_KEY}")].globals);`;
}

export function getWorkflowBundle(workflowId: string): WorkflowBundle | undefined {
  return workflows.get(workflowId);
}

export function registeredWorkflowIds(): string[] {
  return [...workflows.keys()].sort();
}

/**
 * The registered workflow ids, sorted, as one frozen array that keeps its identity until a
 * registration changes it: the worker passes it to every queue claim (a World may cache what it
 * derives from it). Registrations only add or replace ids, so the list never shrinks in a
 * running process (`clearRegistry` is for tests).
 */
export function registeredWorkflowList(): readonly string[] {
  workflowList ??= Object.freeze([...workflows.keys()].sort());
  return workflowList;
}

export function hasRegisteredWorkflows(): boolean {
  return workflows.size > 0;
}

/** Calls `listener` whenever workflows are registered (the in-process worker starts lazily). */
export function onWorkflowsRegistered(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Makes the reference object `start()` takes. */
export function workflowReference<Args extends unknown[], Result>(
  workflowId: string,
): WorkflowReference<Args, Result> {
  return Object.freeze({ workflowId });
}

/** True for a function whose body starts with the "use workflow" directive (source not compiled). */
function saysUseWorkflow(fn: object): boolean {
  const source = Function.prototype.toString.call(fn);
  const body = source.slice(source.indexOf("{") + 1);
  return /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/|["']use strict["'];?)*["']use workflow["']/.test(body);
}

/**
 * The workflow id behind whatever was passed to `start()`, or a typed error saying what is wrong.
 * With `clientOnly` (a client that executes nothing here) a workflow this process has not loaded
 * is accepted by reference; otherwise it must be registered.
 */
export function resolveWorkflowId(workflow: unknown, clientOnly = false): string {
  const id =
    (typeof workflow === "object" || typeof workflow === "function") && workflow !== null
      ? (workflow as { workflowId?: unknown }).workflowId
      : undefined;
  if (typeof id !== "string") {
    if (typeof workflow === "function" && saysUseWorkflow(workflow)) {
      const name = workflow.name || "(anonymous)";
      throw new WorkflowNotRegisteredError(
        `start() was given the function ${name}, which says "use workflow" but was not compiled by Stepwise, so it would run as a plain function. Compile the file that defines it: in Next.js wrap next.config with withWorkflow() from "stepwise-workflows/next" (and if another plugin wraps the config after it, check that it keeps the webpack function and turbopack.rules it is given — or apply withWorkflow last, outermost); with Vite add stepwise() from "stepwise-workflows/vite" to the plugins; with Node run node --import stepwise-workflows/register, or build with npx stepwise build.`,
      );
    }
    const what =
      typeof workflow === "function"
        ? `the function ${(workflow as { name?: string }).name || "(anonymous)"}`
        : `a ${typeof workflow}`;
    throw new WorkflowNotRegisteredError(
      `start() was given ${what}, which is not a workflow. Pass a function marked with "use workflow", imported from a file loaded through stepwise (node --import stepwise-workflows/register, or a worker started with npx stepwise worker).`,
    );
  }
  // A client-only process (STEPWISE_WORKER=0) may start workflows it does not load: the
  // compiler's client references carry the id, and the workers that run it have the code.
  if (!workflows.has(id) && !clientOnly) {
    const known = registeredWorkflowIds();
    throw new WorkflowNotRegisteredError(
      `The workflow ${id} is not registered in this process. ${known.length > 0 ? `Registered workflows: ${known.join(", ")}.` : "No workflows are registered: import the file that defines it before calling start()."}`,
    );
  }
  return id;
}

/** For tests: forget everything registered. */
export function clearRegistry(): void {
  steps.clear();
  workflows.clear();
  workflowList = undefined;
}
