/**
 * What workflow code cannot do, checked after stripping: use a Node.js built-in (imported, or
 * through `import()` / `require()`), use `stepwise-workflows/api` and the other host entries, `await` at
 * the top level (the sandbox evaluates the bundle as a script), or read Node's globals (a
 * warning: it throws when it runs). Each message says why and what to do instead.
 */
import type { ImportBinding, ImportContext, ImportInfo } from "./imports.ts";

export function firstUse(
  ctx: ImportContext,
  bindings: readonly ImportBinding[],
): { name: string; at: number } | undefined {
  let best: { name: string; at: number } | undefined;
  for (const b of bindings) {
    const at = ctx.after.names.get(b.local)?.[0];
    if (at !== undefined && (best === undefined || at < best.at)) best = { name: b.local, at };
  }
  return best;
}

export function refuseBuiltin(
  ctx: ImportContext,
  at: number,
  specifier: string,
  use?: { name: string; at: number },
): never {
  const where =
    use === undefined ? "" : ` (\`${use.name}\` is used at line ${ctx.reporter.lines.position(use.at).line})`;
  throw ctx.reporter.error(
    at,
    `"${specifier}" is a Node.js built-in module, but ${ctx.workflowReason}, which runs in a deterministic sandbox without Node.js APIs${where}.`,
    `move the code that uses "${specifier}" into a step (an \`async function\` whose body starts with "use step") and call the step from the workflow; step bodies run in Node.js with every module available.`,
  );
}

/** Module-level code of a workflow file runs in the sandbox too; say so when that is the problem. */
function topLevelUse(
  ctx: ImportContext,
  bindings: readonly ImportBinding[],
): { name: string; at: number } | undefined {
  let best: { name: string; at: number } | undefined;
  for (const b of bindings) {
    const at = ctx.after.topLevel.get(b.local)?.[0];
    if (at !== undefined && (best === undefined || at < best.at)) best = { name: b.local, at };
  }
  return best;
}

const TOP_LEVEL_FIX =
  "move the code that starts or inspects runs into another module (such as app.ts) that imports this one; a file with workflows should hold workflows, steps and what they need.";

export function refuseHostApi(ctx: ImportContext, info: ImportInfo, used: readonly ImportBinding[]): never {
  const top = topLevelUse(ctx, used);
  if (top !== undefined) {
    const line = ctx.reporter.lines.position(top.at).line;
    throw ctx.reporter.error(
      top.at,
      `\`${top.name}\` from "${info.specifier}" is used by this file's top-level code (line ${line}), which also runs inside the workflow sandbox (${ctx.workflowReason}), where "${info.specifier}" is not available.`,
      TOP_LEVEL_FIX,
    );
  }
  throw ctx.reporter.error(
    info.node.start,
    `"${info.specifier}" is for application code and steps, not workflow code (${ctx.workflowReason}).`,
    `call it from a step (an \`async function\` whose body starts with "use step"); inside workflows, import from "stepwise-workflows".`,
  );
}

/** Refuses `await` in module-level code: the sandbox evaluates the module as a script. */
export function refuseTopLevelAwait(ctx: ImportContext): void {
  const at = ctx.after.topLevelAwaits[0];
  if (at === undefined) return;
  throw ctx.reporter.error(
    at,
    `Top-level await in workflow code (${ctx.workflowReason}): the module's top-level code also runs inside the workflow sandbox, as a script, where it cannot await.`,
    "await inside a function instead: in the workflow (through a step, if it does I/O), or in another module such as the app's entry point.",
  );
}

const NODE_GLOBALS = ["process", "Buffer", "__dirname", "__filename"];

/** Node's globals do not exist in the sandbox: a use left in workflow code fails when it runs. */
export function warnNodeGlobals(ctx: ImportContext, imports: readonly ImportInfo[]): void {
  const imported = new Set(imports.flatMap((i) => i.bindings.map((b) => b.local)));
  for (const name of NODE_GLOBALS) {
    const at = ctx.after.names.get(name)?.[0];
    if (at === undefined || imported.has(name)) continue;
    ctx.reporter.warn(
      at,
      `\`${name}\` is a Node.js global, and workflow code runs in a sandbox without it (${ctx.workflowReason}), so this throws when it runs. Read what you need in a step and pass it to the workflow.`,
    );
  }
}
