/**
 * The sandbox prelude: the first code evaluated in every workflow sandbox. It takes the host's
 * bridge off the global object, makes the realm deterministic, and exposes the registrar that
 * workflow bundles use (`registerWorkflow`, `step`, `api`) and the runtime the host drives
 * (`start`, `deliver`, `setNow`).
 *
 * Bundled with esbuild into one script (see `runtime/sandbox.ts`): no Node imports here.
 */
import { StepwiseError } from "../errors/base.ts";
import { decodeValue, encodeValue } from "../serde/codec.ts";
import { createWorkflowApi, type Pending } from "./api.ts";
import { installDeterminism } from "./determinism.ts";
import type { Hook } from "./hooks.ts";
import {
  BRIDGE_KEY,
  type Delivery,
  type HostBridge,
  SANDBOX_KEY,
  type SandboxRegistrar,
  type SandboxRuntime,
} from "./protocol.ts";

const global = globalThis as unknown as Record<string | symbol, unknown>;
const bridgeKey = Symbol.for(BRIDGE_KEY);
const bridge = global[bridgeKey] as HostBridge;
delete global[bridgeKey];

const clock = { now: bridge.run.createdAt };
installDeterminism(global as Record<string, unknown>, bridge.run.seed, clock);

for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  (global.console as Record<string, unknown>)[level] = (...args: unknown[]) => bridge.log(level, args);
}

const pending = new Map<string, Pending>();
const hooks = new Map<string, Hook<unknown>>();
const workflows = new Map<string, (...args: unknown[]) => unknown>();
const api = createWorkflowApi({ bridge, clock, pending, hooks });

function encodeError(error: unknown): string {
  try {
    return encodeValue(error);
  } catch {
    return encodeValue(new Error(String(error)));
  }
}

function step(stepName: string): (...args: unknown[]) => Promise<unknown> {
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
    const receipt = bridge.command({ kind: "step", name: stepName, args: text });
    return new Promise((resolve, reject) => {
      pending.set(receipt.id, { resolve, reject });
    });
  };
  Object.defineProperty(stub, "name", { value: stepName.slice(stepName.lastIndexOf("/") + 1) });
  return stub;
}

const registrar: SandboxRegistrar = {
  registerWorkflow(workflowId, fn) {
    workflows.set(workflowId, fn);
  },
  step,
  api,
};

function settle(outcome: Promise<unknown>): void {
  outcome.then(
    (value) => {
      let text: string;
      try {
        text = encodeValue(value);
      } catch (error) {
        bridge.settle({
          ok: false,
          error: encodeError(
            new StepwiseError(
              `The workflow's return value cannot be serialized: ${(error as Error).message}`,
            ),
          ),
        });
        return;
      }
      bridge.settle({ ok: true, value: text });
    },
    (error) => bridge.settle({ ok: false, error: encodeError(error) }),
  );
}

const runtime: SandboxRuntime = {
  start(workflowId, argsText) {
    const fn = workflows.get(workflowId);
    if (fn === undefined) {
      settle(Promise.reject(new StepwiseError(`Workflow ${workflowId} is not defined in its bundle.`)));
      return;
    }
    settle(
      (async () => {
        const args = decodeValue(argsText);
        return await fn(...(Array.isArray(args) ? args : [args]));
      })(),
    );
  },
  deliver(delivery: Delivery) {
    if (delivery.kind === "hook_received" || delivery.kind === "hook_conflict") {
      const hook = hooks.get(delivery.id);
      if (hook === undefined) return;
      if (delivery.kind === "hook_received") hook.internals().receive(decodeValue(delivery.payload));
      else hook.internals().fail(decodeValue(delivery.error));
      return;
    }
    const waiter = pending.get(delivery.id);
    if (waiter === undefined) return;
    pending.delete(delivery.id);
    if (delivery.kind === "step_completed") waiter.resolve(decodeValue(delivery.value));
    else if (delivery.kind === "step_failed") waiter.reject(decodeValue(delivery.error));
    else waiter.resolve(undefined);
  },
  setNow(epochMs) {
    clock.now = epochMs;
  },
  hasWorkflow(workflowId) {
    return workflows.has(workflowId);
  },
};

Object.defineProperty(global, Symbol.for(SANDBOX_KEY), { value: { registrar, runtime }, enumerable: false });
