/**
 * Finds a registered workflow from what a person types: the full id
 * (`workflow//workflows/order.ts//order`), `<file>//<name>`, or just the function name.
 */
import { WorkflowNotRegisteredError } from "../errors/runtime.ts";
import { registeredWorkflowIds } from "../runtime/registry.ts";

export function findWorkflowId(query: string): string {
  const known = registeredWorkflowIds();
  if (known.includes(query)) return query;
  const matches = known.filter((id) => id.endsWith(`//${query}`) || id === `workflow//${query}`);
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  const list =
    known.length === 0
      ? "none (no workflow files are loaded in this process: import them, or with the CLI pass --load <file>)"
      : known.map((id) => `\n  ${id}`).join("");
  if (matches.length > 1) {
    throw new WorkflowNotRegisteredError(
      `"${query}" matches several workflows; use the full id:${matches.map((id) => `\n  ${id}`).join("")}`,
    );
  }
  throw new WorkflowNotRegisteredError(`No workflow named "${query}". Known workflows: ${list}`);
}
