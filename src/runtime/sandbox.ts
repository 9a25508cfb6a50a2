/**
 * Workflow realms: one `node:vm` context per workflow bundle, hosting any number of runs at once.
 * The prelude (determinism, registrars, the delivery runtime) is evaluated once per realm; each run
 * gets its own scope and its own evaluation of the bundle, whose lexical globals (`Math`, `Date`,
 * `crypto`, `performance`, `console`, `globalThis`) belong to the run (see `registry.ts` for the
 * wrapper), so module state and randomness never leak between runs and their microtasks may
 * interleave. Creating a context costs about a millisecond; sharing realms is what lets a worker
 * start thousands of runs a second.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { buildSync } from "esbuild";
import { type Delivery, type HostBridge, type RealmRuntime, SANDBOX_KEY } from "../workflow/protocol.ts";
import type { WorkflowBundle } from "./registry.ts";

let prelude: vm.Script | undefined;

function preludeEntry(): string {
  for (const ext of [".js", ".ts"]) {
    const path = fileURLToPath(new URL(`../workflow/prelude${ext}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(
    "The Stepwise sandbox prelude is missing from the installed package; reinstall stepwise-workflows.",
  );
}

function preludeScript(): vm.Script {
  if (prelude === undefined) {
    const result = buildSync({
      entryPoints: [preludeEntry()],
      bundle: true,
      format: "iife",
      platform: "neutral",
      target: "es2022",
      write: false,
      logLevel: "silent",
      mainFields: ["module", "main"],
    });
    const code = result.outputFiles[0]?.text;
    if (code === undefined) throw new Error("Building the sandbox prelude produced no output.");
    prelude = new vm.Script(code, { filename: "stepwise:prelude.js" });
  }
  return prelude;
}

/** Web platform globals that workflow code may use; they are deterministic. */
const PASSTHROUGH = [
  "TextEncoder",
  "TextDecoder",
  "URL",
  "URLSearchParams",
  "Headers",
  "Request",
  "Response",
  "Blob",
  "ReadableStream",
  "WritableStream",
  "TransformStream",
  "AbortController",
  "AbortSignal",
  "atob",
  "btoa",
  "structuredClone",
];

/** Resolves once every microtask queued so far (in any realm) has run. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class Realm {
  readonly context: vm.Context;
  readonly runtime: RealmRuntime;

  constructor(name: string) {
    const globals: Record<string, unknown> = {};
    const host = globalThis as unknown as Record<string, unknown>;
    for (const key of PASSTHROUGH) globals[key] = host[key];
    globals.console = {};
    this.context = vm.createContext(globals, { name });
    preludeScript().runInContext(this.context);
    const exposed = (this.context as Record<symbol, { runtime: RealmRuntime } | undefined>)[
      Symbol.for(SANDBOX_KEY)
    ];
    if (exposed === undefined) throw new Error("The sandbox prelude did not initialise.");
    this.runtime = exposed.runtime;
  }
}

const realms = new WeakMap<WorkflowBundle, Realm>();

function realmFor(bundle: WorkflowBundle): Realm {
  let realm = realms.get(bundle);
  if (realm === undefined) {
    realm = new Realm(`stepwise:${bundle.filename}`);
    realms.set(bundle, realm);
  }
  return realm;
}

/** One run's view of its realm. */
export interface Sandbox {
  /** Evaluates the run's bundle and starts its workflow; resolves when its microtasks drained. */
  start(workflowId: string, args: string): Promise<void>;
  /** Delivers an outcome at time `at`; resolves when the workflow's microtasks drained. */
  deliver(delivery: Delivery, at: number): Promise<void>;
}

/** Opens a run in the bundle's realm. A bundle that throws while loading rejects `start`. */
export function createSandbox(bundle: WorkflowBundle, bridge: HostBridge): Sandbox {
  const realm = realmFor(bundle);
  const { runtime } = realm;
  const scope = runtime.open(bridge);
  return {
    async start(workflowId, args) {
      runtime.evaluate(scope, () => bundle.script.runInContext(realm.context));
      runtime.setNow(scope, bridge.run.createdAt);
      runtime.start(scope, workflowId, args);
      await drain();
    },
    async deliver(delivery, at) {
      runtime.setNow(scope, at);
      runtime.deliver(scope, delivery);
      await drain();
    },
  };
}
