/**
 * The import declarations of a file, and how each compiler mode rewrites them once function
 * bodies are stripped: an import whose bindings are no longer read is dropped (workflow and client
 * code) or kept for its side effects (host code, so step files still load and register); in
 * workflow code, `stepwise-workflows` becomes the sandbox's api object and Node built-ins are refused.
 */
import { isBuiltin } from "node:module";
import type MagicString from "magic-string";
import { WORKFLOW_API_NAMES } from "../workflow/api.ts";
import { type AstNode, prop } from "./ast.ts";
import { SANDBOX_SERDE, SERDE_NAMES } from "./classes.ts";
import type { Reporter } from "./errors.ts";
import { PACKAGE_NAME, WORKFLOW_ENTRIES } from "./package-name.ts";
import type { References } from "./references.ts";
import {
  firstUse,
  refuseBuiltin,
  refuseHostApi,
  refuseTopLevelAwait,
  warnNodeGlobals,
} from "./sandbox-checks.ts";

export interface ImportBinding {
  local: string;
  /** The exported name, "default", or "*" for a namespace import. */
  imported: string;
  isType: boolean;
  node: AstNode;
}

export interface ImportInfo {
  node: AstNode;
  source: AstNode;
  specifier: string;
  isType: boolean;
  bindings: ImportBinding[];
}

export function collectImports(program: AstNode): ImportInfo[] {
  const out: ImportInfo[] = [];
  for (const statement of prop(program, "body") as AstNode[]) {
    if (statement.type !== "ImportDeclaration") continue;
    const source = prop(statement, "source") as AstNode;
    const isType = prop(statement, "importKind") === "type";
    const bindings = (prop(statement, "specifiers") as AstNode[]).map((spec): ImportBinding => {
      const local = prop(prop(spec, "local") as AstNode, "name") as string;
      if (spec.type === "ImportDefaultSpecifier") return { local, imported: "default", isType, node: spec };
      if (spec.type === "ImportNamespaceSpecifier") return { local, imported: "*", isType, node: spec };
      const imported = prop(spec, "imported") as AstNode;
      const name = (prop(imported, "name") ?? prop(imported, "value")) as string;
      return { local, imported: name, isType: isType || prop(spec, "importKind") === "type", node: spec };
    });
    out.push({ node: statement, source, specifier: prop(source, "value") as string, isType, bindings });
  }
  return out;
}

export function isNodeBuiltin(specifier: string): boolean {
  return isBuiltin(specifier);
}

/** Replaces `start..end` with nothing but the line breaks it held, so later lines keep their numbers. */
export function blank(s: MagicString, source: string, start: number, end: number, replacement = ""): void {
  const breaks = source.slice(start, end).split("\n").length - 1;
  const text = replacement + "\n".repeat(breaks);
  if (text === "") s.remove(start, end);
  else s.overwrite(start, end, text);
}

export interface ImportContext {
  s: MagicString;
  source: string;
  reporter: Reporter;
  before: References;
  after: References;
  /** The identifier of the compiler's helper object in the output. */
  ns: string;
  /** Why this file is workflow code, for messages. */
  workflowReason: string;
  /** The text of a module specifier in the output (rewritten for ahead-of-time builds). */
  specifierText(node: AstNode): string;
}

function render(ctx: ImportContext, info: ImportInfo, keep: readonly ImportBinding[]): string {
  const named = keep
    .filter((b) => b.node.type === "ImportSpecifier")
    .map((b) => ctx.source.slice(b.node.start, b.node.end));
  const parts: string[] = [];
  const def = keep.find((b) => b.imported === "default" && b.node.type === "ImportDefaultSpecifier");
  const star = keep.find((b) => b.node.type === "ImportNamespaceSpecifier");
  if (def !== undefined) parts.push(def.local);
  if (star !== undefined) parts.push(`* as ${star.local}`);
  if (named.length > 0) parts.push(`{ ${named.join(", ")} }`);
  const rest = ctx.source.slice(info.source.end, info.node.end);
  return `import ${info.isType ? "type " : ""}${parts.join(", ")} from ${ctx.specifierText(info.source)}${rest}`;
}

/** Drops the bindings that stripping left unread, or the whole declaration when none is read. */
function prune(ctx: ImportContext, info: ImportInfo): void {
  const usedAfter = (b: ImportBinding): boolean => ctx.after.names.has(b.local);
  const usedBefore = (b: ImportBinding): boolean => ctx.before.names.has(b.local);
  const keep = info.bindings.filter((b) => b.isType || usedAfter(b) || !usedBefore(b));
  if (keep.length === info.bindings.length) return;
  if (!keep.some((b) => !b.isType && usedAfter(b))) blank(ctx.s, ctx.source, info.node.start, info.node.end);
  else blank(ctx.s, ctx.source, info.node.start, info.node.end, render(ctx, info, keep));
}

/** The names workflow code may import, with the error classes summarised. */
function describeApi(): string {
  const functions = [...WORKFLOW_API_NAMES, ...SERDE_NAMES].filter(
    (n) => !n.endsWith("Error") || n === "ensureError",
  );
  const errors = WORKFLOW_API_NAMES.filter((n) => n.endsWith("Error") && n !== "ensureError");
  return `${functions.join(", ")} and the error classes (${errors.slice(0, 3).join(", ")}, ... every *Error export)`;
}

/**
 * `import ... from "stepwise-workflows"` in workflow code: the run's api object (`<ns>.api`), and for the
 * serialization helpers (`serialize`, `deserialize`, `registerClass`) the realm's `SANDBOX_SERDE`.
 * Returns whether the output refers to the helper object `<ns>`.
 */
function mapStepwise(ctx: ImportContext, info: ImportInfo): boolean {
  const used = info.bindings.filter((b) => !b.isType && ctx.after.names.has(b.local));
  const allowed = new Set(WORKFLOW_API_NAMES);
  const parts: string[] = [];
  const serde: string[] = [];
  let namespace: string | undefined;
  for (const b of used) {
    if (b.imported === "*") namespace = b.local;
    else if (SERDE_NAMES.has(b.imported))
      serde.push(b.imported === b.local ? b.local : `${b.imported}: ${b.local}`);
    else if (b.imported === "default" || !allowed.has(b.imported)) {
      const what = b.imported === "default" ? "the default export" : `\`${b.imported}\``;
      throw ctx.reporter.error(
        b.node.start,
        `Workflow code cannot import ${what} from "stepwise-workflows" (${ctx.workflowReason}).`,
        `workflow code can import ${describeApi()} from "stepwise-workflows"; anything else belongs in a step (an \`async function\` whose body starts with "use step") or in application code.`,
      );
    } else parts.push(b.imported === b.local ? b.local : `${b.imported}: ${b.local}`);
  }
  const declarations: string[] = [];
  if (namespace !== undefined)
    declarations.push(`const ${namespace} = { ...${ctx.ns}.api, ...${SANDBOX_SERDE} };`);
  if (parts.length > 0) declarations.push(`const { ${parts.join(", ")} } = ${ctx.ns}.api;`);
  if (serde.length > 0) declarations.push(`const { ${serde.join(", ")} } = ${SANDBOX_SERDE};`);
  blank(ctx.s, ctx.source, info.node.start, info.node.end, declarations.join(" "));
  return namespace !== undefined || parts.length > 0;
}

/** Rewrites imports for workflow code; returns whether the helper object is referenced. */
export function rewriteWorkflowImports(ctx: ImportContext, imports: readonly ImportInfo[]): boolean {
  let usesNs = false;
  for (const info of imports) {
    if (info.isType) continue;
    const used = info.bindings.filter((b) => !b.isType && ctx.after.names.has(b.local));
    if (info.specifier === PACKAGE_NAME) {
      usesNs = mapStepwise(ctx, info) || usesNs;
    } else if (WORKFLOW_ENTRIES.has(info.specifier)) {
      // Sandbox-safe entries (`stepwise-workflows/ai`): the sandbox bundle maps them to their workflow module.
      prune(ctx, info);
    } else if (info.specifier.startsWith(`${PACKAGE_NAME}/`)) {
      if (used.length > 0) refuseHostApi(ctx, info, used);
      blank(ctx.s, ctx.source, info.node.start, info.node.end);
    } else if (isNodeBuiltin(info.specifier)) {
      if (info.bindings.length === 0 || used.length > 0)
        refuseBuiltin(ctx, info.node.start, info.specifier, firstUse(ctx, used));
      blank(ctx.s, ctx.source, info.node.start, info.node.end);
    } else {
      prune(ctx, info);
    }
  }
  refuseTopLevelAwait(ctx);
  for (const { specifier, start } of ctx.after.dynamicImports) {
    if (isNodeBuiltin(specifier)) refuseBuiltin(ctx, start, specifier);
  }
  warnNodeGlobals(ctx, imports);
  return usesNs;
}

/** Rewrites imports for client code: only pruning. */
export function rewriteClientImports(ctx: ImportContext, imports: readonly ImportInfo[]): void {
  for (const info of imports) if (!info.isType) prune(ctx, info);
}

/**
 * Host code keeps loading every module it loaded, even when only stripped workflow bodies read its
 * bindings (that is how imported step files still register); only `stepwise-workflows` and Node built-ins,
 * which register nothing, are dropped.
 */
export function rewriteHostImports(ctx: ImportContext, imports: readonly ImportInfo[]): void {
  for (const info of imports) {
    if (info.isType || info.bindings.length === 0) continue;
    const value = info.bindings.filter((b) => !b.isType);
    const wasUsed = value.some((b) => ctx.before.names.has(b.local));
    const stillUsed = value.some((b) => ctx.after.names.has(b.local));
    if (!wasUsed || stillUsed) continue;
    if (info.specifier === PACKAGE_NAME || isNodeBuiltin(info.specifier)) {
      blank(ctx.s, ctx.source, info.node.start, info.node.end);
    } else {
      blank(
        ctx.s,
        ctx.source,
        info.node.start,
        info.node.end,
        `import ${ctx.specifierText(info.source)}${ctx.source.slice(info.source.end, info.node.end)}`,
      );
    }
  }
}
