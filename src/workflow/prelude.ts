/**
 * The sandbox prelude: the first code evaluated in a workflow realm (a `node:vm` context). A realm
 * hosts many runs, one at a time: the host opens a scope per run, enters it, and everything the
 * workflow code does until the host leaves belongs to that run. The prelude makes the realm
 * deterministic per run (seeded randomness, the run's clock), and exposes the registrar that workflow
 * bundles use (`registerWorkflow`, `step`, `api`, all bound to the entered run) and the runtime the
 * host drives (`open`, `enter`, `leave`, `start`, `deliver`, `setNow`).
 *
 * Bundled with esbuild into one script (see `runtime/sandbox.ts`): no Node imports here.
 */
import { StepwiseError } from "../errors/base.ts";
import { SandboxViolationError } from "../errors/runtime.ts";
import { decodeValue, encodeValue } from "../serde/codec.ts";
import { createPrng } from "../util/prng.ts";
import { createWorkflowApi, type Pending } from "./api.ts";
import { type Clock, installDeterminism } from "./determinism.ts";
import type { Hook } from "./hooks.ts";
import {
  type Delivery,
  type HostBridge,
  type RealmRuntime,
  type RunScope,
  SANDBOX_KEY,
  type SandboxRegistrar,
} from "./protocol.ts";

interface Scope {
  bridge: HostBridge;
  clock: Clock;
  prng: ReturnType<typeof createPrng>;
  pending: Map<string, Pending>;
  hooks: Map<string, Hook<unknown>>;
  workflows: Map<string, (...args: unknown[]) => unknown>;
  api: Record<string, unknown>;
}

const global = globalThis as unknown as Record<string | symbol, unknown>;
let current: Scope | undefined;

function entered(): Scope {
  if (current === undefined) {
    throw new SandboxViolationError(
      "Workflow code ran outside of its run (from a callback the runtime did not schedule). Keep workflow code to async functions awaiting steps, sleeps and hooks.",
    );
  }
  return current;
}

installDeterminism(global as Record<string, unknown>, entered);

for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  (global.console as Record<string, unknown>)[level] = (...args: unknown[]) =>
    current?.bridge.log(level, args);
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

const registrar: SandboxRegistrar = {
  registerWorkflow(workflowId, fn) {
    entered().workflows.set(workflowId, fn);
  },
  step(stepName) {
    return stepStub(entered(), stepName);
  },
  get api() {
    return entered().api;
  },
};

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

const runtime: RealmRuntime = {
  open(bridge) {
    const clock = { now: bridge.run.createdAt, origin: bridge.run.createdAt };
    const pending = new Map<string, Pending>();
    const hooks = new Map<string, Hook<unknown>>();
    const scope: Scope = {
      bridge,
      clock,
      prng: createPrng(bridge.run.seed),
      pending,
      hooks,
      workflows: new Map(),
      api: createWorkflowApi({ bridge, clock, pending, hooks }),
    };
    return scope as unknown as RunScope;
  },
  enter(scope) {
    current = scope as unknown as Scope;
  },
  leave() {
    current = undefined;
  },
  start(workflowId, argsText) {
    const scope = entered();
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
        const args = decodeValue(argsText);
        return await fn(...(Array.isArray(args) ? args : [args]));
      })(),
    );
  },
  deliver(delivery: Delivery) {
    const scope = entered();
    if (delivery.kind === "hook_received" || delivery.kind === "hook_conflict") {
      const hook = scope.hooks.get(delivery.id);
      if (hook === undefined) return;
      if (delivery.kind === "hook_received") hook.internals().receive(decodeValue(delivery.payload));
      else hook.internals().fail(decodeValue(delivery.error));
      return;
    }
    const waiter = scope.pending.get(delivery.id);
    if (waiter === undefined) return;
    scope.pending.delete(delivery.id);
    if (delivery.kind === "step_completed") waiter.resolve(decodeValue(delivery.value));
    else if (delivery.kind === "step_failed") waiter.reject(decodeValue(delivery.error));
    else waiter.resolve(undefined);
  },
  setNow(epochMs) {
    entered().clock.now = epochMs;
  },
};

Object.defineProperty(global, Symbol.for(SANDBOX_KEY), { value: { registrar, runtime }, enumerable: false });
