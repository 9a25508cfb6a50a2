/**
 * Creates workflow sandboxes: a fresh `node:vm` context per run, with the prelude (determinism,
 * the registrar, the delivery runtime) evaluated first and the run's workflow bundle after it.
 *
 * The prelude is bundled from `src/workflow/prelude` by esbuild the first time a sandbox is needed
 * in a process (a few tens of milliseconds) and reused after that.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { buildSync } from "esbuild";
import { BRIDGE_KEY, type HostBridge, SANDBOX_KEY, type SandboxRuntime } from "../workflow/protocol.ts";
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

export interface Sandbox {
  runtime: SandboxRuntime;
}

export function createSandbox(bundle: WorkflowBundle, bridge: HostBridge): Sandbox {
  const globals: Record<string | symbol, unknown> = {};
  const host = globalThis as unknown as Record<string, unknown>;
  for (const name of PASSTHROUGH) globals[name] = host[name];
  globals.console = {};
  globals[Symbol.for(BRIDGE_KEY)] = bridge;
  const context = vm.createContext(globals, { name: `stepwise:${bridge.run.runId}` });
  preludeScript().runInContext(context);
  bundle.script.runInContext(context);
  const exposed = (context as Record<symbol, { runtime: SandboxRuntime } | undefined>)[
    Symbol.for(SANDBOX_KEY)
  ];
  if (exposed === undefined) throw new Error("The sandbox prelude did not initialise.");
  return { runtime: exposed.runtime };
}

/** Resolves once every microtask queued so far (in any realm) has run. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
