/**
 * The sandbox prelude: the first code evaluated in a workflow realm (a `node:vm` context). A realm
 * hosts many runs at once. For each run the host opens a scope (its clock, seeded randomness,
 * pending calls, hooks, and its own `Math`, `Date`, `crypto`, `performance`, `console` and
 * `globalThis`), evaluates the workflow bundle for it — the bundle's lexical globals and its
 * registrar belong to that run — and from then on delivers outcomes to that scope explicitly. Runs
 * never share mutable state, so their microtasks may interleave freely.
 *
 * Bundled with esbuild into one script (see `runtime/sandbox.ts`): no Node imports here.
 */
import { StepwiseError } from "../errors/base.ts";
import { SandboxViolationError } from "../errors/runtime.ts";
import {
  type ClassRegistry,
  createClassRegistry,
  decodeValue,
  encodeValue,
  registerClass,
  withClassRegistry,
} from "../serde/codec.ts";
import { createPrng, type Prng } from "../util/prng.ts";
import { createWorkflowApi, type Pending } from "./api.ts";
import { type Clock, guardRealm, runGlobals } from "./determinism.ts";
import type { Hook } from "./hooks.ts";
import {
  type Delivery,
  type HostBridge,
  type RealmRuntime,
  type RunScope,
  SANDBOX_KEY,
  type SandboxRegistrar,
} from "./protocol.ts";
import { STREAM_CLASS_ID } from "./stream-name.ts";
import { createWorkflowStreamClass } from "./streams.ts";
import { installCapturingResponse } from "./web.ts";

interface Scope {
  bridge: HostBridge;
  clock: Clock;
  prng: Prng;
  pending: Map<string, Pending>;
  hooks: Map<string, Hook<unknown>>;
  workflows: Map<string, (...args: unknown[]) => unknown>;
  registrar: SandboxRegistrar;
  globals: unknown[];
  /** The user classes this run's bundle registered: its payloads are decoded against them. */
  classes: ClassRegistry;
}

const realm = globalThis as unknown as Record<string | symbol, unknown>;
/** The run whose bundle is being evaluated (synchronously), if any. */
let evaluating: Scope | undefined;

guardRealm(realm as Record<string, unknown>, () => evaluating);
installCapturingResponse(realm as Record<string, unknown>);
const WorkflowStream = createWorkflowStreamClass(realm as Record<string, unknown>);
registerClass(STREAM_CLASS_ID, WorkflowStream);

function evaluatingScope(what: string): Scope {
  if (evaluating === undefined) {
    throw new SandboxViolationError(
      `${what} is only available while a workflow bundle is being loaded for a run.`,
    );
  }
  return evaluating;
}

function encodeError(error: unknown): string {
  try {
    return encodeValue(error);
  } catch {
    return encodeValue(new Error(String(error)));
  }
}

function stepStub(scope: Scope, stepName: string): (...args: unknown[]) => Promise<unknown> {
  const stub = (...args: unknown[]): Promise<unknown> => {
    let text: string;
    try {
      text = encodeValue(args);
    } catch (error) {
      return Promise.reject(
        new StepwiseError(
          `The arguments of step ${stepName} cannot be serialized: ${(error as Error).message}`,
        ),
      );
    }
    const receipt = scope.bridge.command({ kind: "step", name: stepName, args: text });
    return new Promise((resolve, reject) => {
      scope.pending.set(receipt.id, { resolve, reject });
    });
  };
  Object.defineProperty(stub, "name", { value: stepName.slice(stepName.lastIndexOf("/") + 1) });
  return stub;
}

function settle(scope: Scope, outcome: Promise<unknown>): void {
  outcome.then(
    (value) => {
      let text: string;
      try {
        text = encodeValue(value);
      } catch (error) {
        scope.bridge.settle({
          ok: false,
          error: encodeError(
            new StepwiseError(
              `The workflow's return value cannot be serialized: ${(error as Error).message}`,
            ),
          ),
        });
        return;
      }
      scope.bridge.settle({ ok: true, value: text });
    },
    (error) => scope.bridge.settle({ ok: false, error: encodeError(error) }),
  );
}

const asScope = (scope: RunScope): Scope => scope as unknown as Scope;

const runtime: RealmRuntime = {
  open(bridge) {
    const clock = { now: bridge.run.createdAt, origin: bridge.run.createdAt };
    const pending = new Map<string, Pending>();
    const hooks = new Map<string, Hook<unknown>>();
    const prng = createPrng(bridge.run.seed);
    const workflows = new Map<string, (...args: unknown[]) => unknown>();
    const classes = createClassRegistry();
    classes.set(STREAM_CLASS_ID, WorkflowStream);
    const scope = { bridge, clock, prng, pending, hooks, workflows, classes } as Scope;
    const api = createWorkflowApi({
      bridge,
      clock,
      pending,
      hooks,
      step: (stepName) => stepStub(scope, stepName),
      realm: realm as Record<string, unknown>,
      streams: WorkflowStream,
    });
    scope.registrar = {
      registerWorkflow: (workflowId, fn) => {
        workflows.set(workflowId, fn);
      },
      step: (stepName) => stepStub(scope, stepName),
      api,
    };
    scope.globals = runGlobals(realm as Record<string, unknown>, scope, (level, args) =>
      bridge.log(level, args),
    );
    return scope as unknown as RunScope;
  },
  evaluate(scope, load) {
    evaluating = asScope(scope);
    try {
      withClassRegistry(asScope(scope).classes, load);
    } finally {
      evaluating = undefined;
    }
  },
  start(handle, workflowId, argsText) {
    const scope = asScope(handle);
    const fn = scope.workflows.get(workflowId);
    if (fn === undefined) {
      settle(
        scope,
        Promise.reject(new StepwiseError(`Workflow ${workflowId} is not defined in its bundle.`)),
      );
      return;
    }
    settle(
      scope,
      (async () => {
        const args = decodeValue(argsText, scope.classes);
        return await fn(...(Array.isArray(args) ? args : [args]));
      })(),
    );
  },
  deliver(handle, delivery: Delivery) {
    const scope = asScope(handle);
    if (delivery.kind === "hook_received" || delivery.kind === "hook_conflict") {
      const hook = scope.hooks.get(delivery.id);
      if (hook === undefined) return;
      if (delivery.kind === "hook_received")
        hook.internals().receive(decodeValue(delivery.payload, scope.classes));
      else hook.internals().fail(decodeValue(delivery.error, scope.classes));
      return;
    }
    const waiter = scope.pending.get(delivery.id);
    if (waiter === undefined) return;
    scope.pending.delete(delivery.id);
    if (delivery.kind === "step_completed") waiter.resolve(decodeValue(delivery.value, scope.classes));
    else if (delivery.kind === "step_failed") waiter.reject(decodeValue(delivery.error, scope.classes));
    else if (delivery.kind === "event_received")
      waiter.resolve({ payload: decodeValue(delivery.payload, scope.classes), sentAt: delivery.sentAt });
    // The wait builds its WaitTimeoutError itself (it knows its type and timeout).
    else if (delivery.kind === "event_timed_out") waiter.reject(undefined);
    else waiter.resolve(undefined);
  },
  setNow(handle, epochMs) {
    asScope(handle).clock.now = epochMs;
  },
};

Object.defineProperty(realm, Symbol.for(SANDBOX_KEY), {
  value: {
    /** The registrar of the run whose bundle is being evaluated. */
    get registrar(): SandboxRegistrar {
      return evaluatingScope("The workflow registrar").registrar;
    },
    /** That run's lexical globals, in RUN_GLOBAL_NAMES order (the bundle wrapper spreads them). */
    get globals(): unknown[] {
      return evaluatingScope("Workflow globals").globals;
    },
    runtime,
  },
  enumerable: false,
});
