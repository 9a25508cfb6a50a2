/**
 * Workflow realms: one `node:vm` context per workflow bundle, hosting any number of runs, one at a
 * time. The prelude (determinism, the registrar, the delivery runtime) is evaluated once per realm;
 * each run gets its own scope (clock, seeded randomness, pending calls) and its own evaluation of
 * the bundle, so module-level state belongs to the run. Creating a context costs about a
 * millisecond; sharing realms is what lets a worker start thousands of runs a second.
 *
 * Entering a run, delivering to it and draining its microtasks happen under the realm's lock, so
 * all sandbox code that runs in that window belongs to that run. A global that workflow code adds
 * while running would leak into other runs: it is removed and the run fails with a
 * `SandboxViolationError` naming it.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { buildSync } from "esbuild";
import { SandboxViolationError } from "../errors/runtime.ts";
import {
  type Delivery,
  type HostBridge,
  type RealmRuntime,
  type RunScope,
  SANDBOX_KEY,
} from "../workflow/protocol.ts";
import type { WorkflowBundle } from "./registry.ts";

let prelude: vm.Script | undefined;

function preludeEntry(): string {
  for (const ext of [".js", ".ts"]) {
    const path = fileURLToPath(new URL(`../workflow/prelude${ext}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("The Stepwise sandbox prelude is missing from the installed package; reinstall stepwise.");
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
  readonly #baseline: Set<string>;
  #lock: Promise<void> = Promise.resolve();

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
    this.#baseline = new Set(Object.getOwnPropertyNames(this.context));
  }

  /**
   * Runs `body` inside `scope`, then drains its microtasks, holding the realm's lock throughout.
   * `prepare` runs first in the same window; globals it adds (module initialisation) are allowed.
   */
  run(scope: RunScope, body: () => void, prepare?: () => void): Promise<SandboxViolationError | undefined> {
    const turn = this.#lock.then(async () => {
      this.runtime.enter(scope);
      try {
        if (prepare !== undefined) {
          prepare();
          this.#checkGlobals(true);
        }
        body();
        await drain();
      } finally {
        this.runtime.leave();
      }
      return this.#checkGlobals(false);
    });
    this.#lock = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  #checkGlobals(allow: boolean): SandboxViolationError | undefined {
    const names = Object.getOwnPropertyNames(this.context);
    if (names.length === this.#baseline.size) return undefined;
    const added = names.filter((name) => !this.#baseline.has(name));
    if (allow) {
      // Module initialisation (libraries setting up globals) is allowed; it happens on every run alike.
      for (const name of added) this.#baseline.add(name);
      return undefined;
    }
    for (const name of added) delete (this.context as Record<string, unknown>)[name];
    return new SandboxViolationError(
      `Workflow code set the global ${added.map((n) => `"${n}"`).join(", ")}. Globals are shared by the runs of a worker and are not replayed: keep state in variables of the workflow function, or in a step's result.`,
    );
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

/** Opens a run in the bundle's realm. `onViolation` hears of globals the workflow set. */
export function createSandbox(
  bundle: WorkflowBundle,
  bridge: HostBridge,
  onViolation: (error: SandboxViolationError) => void,
): Sandbox {
  const realm = realmFor(bundle);
  const scope = realm.runtime.open(bridge);
  const report = (violation: SandboxViolationError | undefined): void => {
    if (violation !== undefined) onViolation(violation);
  };
  return {
    async start(workflowId, args) {
      report(
        await realm.run(
          scope,
          () => {
            realm.runtime.setNow(bridge.run.createdAt);
            realm.runtime.start(workflowId, args);
          },
          () => bundle.script.runInContext(realm.context),
        ),
      );
    },
    async deliver(delivery, at) {
      report(
        await realm.run(scope, () => {
          realm.runtime.setNow(at);
          realm.runtime.deliver(delivery);
        }),
      );
    },
  };
}
