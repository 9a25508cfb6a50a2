/**
 * The small runtime that compiled host and client code calls (through `stepwise-workflows/internal`):
 * marking workflow functions with their id, the errors a stripped function throws when called,
 * and registering a file's sandbox bundle from disk. Loaded by every compiled module, so it
 * imports nothing heavy (no parser, no bundler).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { StepwiseError } from "../errors/base.ts";
import { registerWorkflowBundle } from "../runtime/registry.ts";
import { registerSandboxSourceMap, registerSandboxSourceMapText } from "../runtime/sandbox-stack.ts";

const nameOf = (id: string): string => id.slice(id.lastIndexOf("/") + 1);

/** Gives a workflow function its `workflowId`, which is what `start()` reads. */
export function markWorkflow<T extends object>(fn: T, workflowId: string): T {
  Object.defineProperty(fn, "workflowId", { value: workflowId, enumerable: true });
  return fn;
}

/** The error thrown by calling a workflow function directly instead of through `start()`. */
export function workflowCalledDirectly(workflowId: string): StepwiseError {
  const name = nameOf(workflowId);
  return new StepwiseError(
    `${name}() is a workflow ("use workflow"): it runs durably through start(), not by a direct call. Start it with: const run = await start(${name}, [...args]) (import { start } from "stepwise-workflows/api"), then await run.returnValue.`,
  );
}

/** The error thrown by a step function in client code, where step bodies are not included. */
export function stepUnavailable(stepId: string): StepwiseError {
  return new StepwiseError(
    `${nameOf(stepId)}() is a step ("use step") and this code was compiled for clients, which only start runs: call the step from a workflow, and run the workflow with start().`,
  );
}

/**
 * Registers the sandbox bundle written at `url` (a script from the compiler) for `workflowIds`,
 * and its source map (`<bundle>.map`) for mapping sandbox stack traces.
 */
export function registerWorkflowBundleFile(url: URL | string, workflowIds: readonly string[]): void {
  const filename = fileURLToPath(url);
  let code: string;
  try {
    code = readFileSync(filename, "utf8");
  } catch (error) {
    throw new StepwiseError(
      `The sandbox bundle ${filename} for ${workflowIds.join(", ")} cannot be read (${(error as Error).message}). Rebuild with npx stepwise build, or run with node --import stepwise-workflows/register.`,
      { cause: error },
    );
  }
  registerSandboxSourceMap(filename, `${filename}.map`);
  registerWorkflowBundle({ code, filename, workflowIds });
}

/**
 * Registers a sandbox bundle that a bundler plugin (`stepwise-workflows/next`, `…/vite`) inlined
 * into the compiled module as text, with its source map, for `workflowIds`. `filename` is where
 * the bundle was built (it names the bundle in stack traces; it need not exist at run time).
 */
export function registerWorkflowBundleInline(
  code: string,
  map: string,
  filename: string,
  workflowIds: readonly string[],
): void {
  registerSandboxSourceMapText(filename, `${filename}.map`, map);
  registerWorkflowBundle({ code, filename, workflowIds });
}
