/**
 * The module name workflow and step code imports Stepwise by (DESIGN.md §1: the npm package
 * `stepwise-workflows`; the name `stepwise` belongs to an unrelated package). The compiler finds
 * `import … from "stepwise-workflows"` in workflow code and emits imports of its subpaths.
 */
export const PACKAGE_NAME = "stepwise-workflows";

/**
 * The entries of the package that workflow code may import besides `stepwise-workflows` itself,
 * each with its sandbox-safe module (relative to the compiler's own folder, without extension):
 * the sandbox bundle resolves the entry to that module, which talks to the runtime only through the
 * sandbox registrar. Every other `stepwise-workflows/*` entry is for application code and steps.
 */
export const WORKFLOW_ENTRIES: ReadonlyMap<string, string> = new Map([
  [`${PACKAGE_NAME}/ai`, "../ai/workflow"],
]);
