/**
 * Which SDK a run's workflow is written in, decided in ONE place for the run API's list, detail
 * and workflow statistics (and anything else that shows it). The rule reads the workflow id alone:
 * `workflow//<file>//<name>`, where the TypeScript compiler names the source file with its
 * extension (`workflows/order.ts`) and the Python SDK names a module (`app.workflows.report`).
 * A file part ending in a JavaScript or TypeScript extension is TypeScript; anything else is
 * Python. The id is known from the run's creation on and never changes, whereas the version that
 * would also tell (a Python version starts `py-`) is absent until a worker pins the run; and
 * because the rule needs only the id, a language filter becomes a workflow-name filter that every
 * World answers from its index (`runs.workflowNames()` then `runs.list({ workflowName })`).
 */

/** The languages a run can be written in. */
export type RunLanguage = "typescript" | "python";
/** Every language, for filters and help texts. */
export const RUN_LANGUAGES: readonly RunLanguage[] = ["typescript", "python"];

const SCRIPT_EXTENSION = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/**
 * The language of a workflow id: TypeScript when its file part (between the first and the last
 * `//`) ends in `.ts`, `.mts`, `.cts`, `.tsx`, `.js`, `.mjs`, `.cjs` or `.jsx`; Python otherwise. An
 * id of another shape (not `workflow//…//…`) counts as TypeScript: only the Python SDK makes ids
 * whose file part is a module name.
 */
export function workflowLanguage(workflowId: string): RunLanguage {
  const match = /^workflow\/\/(.+)\/\/[^/]+$/.exec(workflowId);
  if (match === null) return "typescript";
  return SCRIPT_EXTENSION.test(match[1] ?? "") ? "typescript" : "python";
}
