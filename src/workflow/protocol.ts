/**
 * The protocol between the host runtime and the workflow sandbox. The prelude exposes a
 * `RealmRuntime`; for each run the host opens a scope with its `HostBridge`. Only strings and plain
 * objects cross: values travel as codec text, so each side builds them with its own realm's
 * intrinsics.
 *
 * Types only: this file has no runtime code, so both sides can import it.
 */

/** `Symbol.for` key of the prelude's exports on the sandbox's global object. */
export const SANDBOX_KEY = "stepwise.sandbox";

/** Something the workflow asks the runtime to do. Each takes the next call index of the run. */
export type Command =
  | { kind: "step"; name: string; args: string }
  | { kind: "sleep"; resumeAt: number }
  /** `waitForEvent`: the first event of `eventType` not yet taken, or a timeout at `timeoutAt`. */
  | { kind: "event"; eventType: string; timeoutAt: number }
  | { kind: "hook"; token?: string; webhook: boolean; meta?: Record<string, unknown> };

export interface CommandReceipt {
  /** Deterministic id of the step, wait (sleep or event wait) or hook. */
  id: string;
  /** For hooks: the token (given, or derived from the run seed). */
  token?: string;
  /** For webhooks: the URL that resumes it. */
  url?: string;
}

/** The outcome of a command, handed to the sandbox. Values and errors are codec text. */
export type Delivery =
  | { kind: "step_completed"; id: string; value: string }
  | { kind: "step_failed"; id: string; error: string }
  | { kind: "wait_completed"; id: string }
  /** An event for a `waitForEvent`: its payload as codec text, and when it was sent (epoch ms). */
  | { kind: "event_received"; id: string; payload: string; sentAt: number }
  | { kind: "event_timed_out"; id: string }
  | { kind: "hook_received"; id: string; payload: string }
  | { kind: "hook_conflict"; id: string; error: string };

export type Settlement = { ok: true; value: string } | { ok: false; error: string };

export interface RunInfo {
  runId: string;
  workflowName: string;
  /** Epoch ms when the run was created. */
  createdAt: number;
  /** Secret seed for the sandbox's random numbers. */
  seed: string;
  /**
   * The version of the workflow code the run replays with (the hash of its bundle), set by the
   * host when it replays the log; undefined for a run older than pinning.
   */
  version?: string;
}

/** Provided by the host; called by workflow code through the prelude. */
export interface HostBridge {
  readonly run: RunInfo;
  command(command: Command): CommandReceipt;
  disposeHook(hookId: string): void;
  settle(settlement: Settlement): void;
  /** Console output from workflow code; the host drops it while replaying. */
  log(level: "log" | "info" | "warn" | "error" | "debug", args: unknown[]): void;
}

/** A run inside a realm: opaque to the host, which only hands it back. */
export type RunScope = object & { readonly __runScope: unique symbol };

/**
 * Provided by the prelude to the host. One realm (a `node:vm` context) hosts many runs; each has
 * its own scope, and every call names the scope it is for.
 */
export interface RealmRuntime {
  /** Prepares a run: its clock, randomness, registrar and lexical globals. */
  open(bridge: HostBridge): RunScope;
  /** Runs `load` (which evaluates the workflow bundle) with `scope` as the run being loaded. */
  evaluate(scope: RunScope, load: () => void): void;
  /** Starts the run's workflow `workflowId` with codec-text arguments. */
  start(scope: RunScope, workflowId: string, args: string): void;
  deliver(scope: RunScope, delivery: Delivery): void;
  /** Moves the run's clock (Date, Date.now, performance.now). */
  setNow(scope: RunScope, epochMs: number): void;
}

/** The object workflow bundles use to register workflows and obtain step stubs. */
export interface SandboxRegistrar {
  registerWorkflow(workflowId: string, fn: (...args: unknown[]) => unknown): void;
  step(stepName: string): (...args: unknown[]) => Promise<unknown>;
  /** The `stepwise-workflows` module as workflow code sees it. */
  api: Record<string, unknown>;
}
