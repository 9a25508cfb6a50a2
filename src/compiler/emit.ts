/**
 * How each mode rewrites the functions that carry a directive, and the registrations it returns
 * for the top of the file (where hoisted declarations already exist). Declarations stay declarations wherever the function survives (so they are still hoisted), and
 * a replaced body keeps the line breaks it had, so the lines after it do not move.
 *
 * Every edit calls into the helper object `ns`: the sandbox registrar in workflow code
 * (`registerWorkflow`, `step`), `stepwise-workflows/internal` in host and client code.
 */
import type MagicString from "magic-string";
import type { AstNode } from "./ast.ts";
import type { DirectiveFunction } from "./directives.ts";
import { blank } from "./imports.ts";

const str = (value: string): string => JSON.stringify(value);

/** Offsets of the `function` keyword and of the parameter list's `(`. */
function header(source: string, fn: DirectiveFunction): { keyword: number; paren: number } {
  const node = fn.node;
  const keyword = source.indexOf("function", node.start);
  const afterName = node.typeParameters?.end ?? node.id?.end ?? keyword + "function".length;
  return { keyword, paren: source.indexOf("(", afterName) };
}

/** Replaces the parameters and body with `replacement`, optionally dropping `async`. */
function replaceBody(
  s: MagicString,
  source: string,
  fn: DirectiveFunction,
  replacement: string,
  dropAsync: boolean,
): void {
  const { keyword, paren } = header(source, fn);
  const body = fn.node.body as unknown as AstNode;
  if (dropAsync && fn.node.async) s.remove(fn.node.start, keyword);
  blank(s, source, paren, body.end, replacement);
}

export function emitWorkflow(
  s: MagicString,
  source: string,
  ns: string,
  functions: readonly DirectiveFunction[],
): string[] {
  const registrations: string[] = [];
  for (const fn of functions) {
    if (fn.kind === "step") {
      replaceBody(s, source, fn, `(...args) { return ${ns}.step(${str(fn.id)})(...args); }`, false);
    } else {
      registrations.push(`${ns}.registerWorkflow(${str(fn.id)}, ${fn.name});`);
    }
  }
  return registrations;
}

export function emitHost(
  s: MagicString,
  source: string,
  ns: string,
  functions: readonly DirectiveFunction[],
  bundle: string,
): string[] {
  const registrations: string[] = [];
  const workflowIds: string[] = [];
  for (const fn of functions) {
    if (fn.kind === "step") {
      registrations.push(`${ns}.registerStep(${str(fn.id)}, ${fn.name});`);
    } else {
      replaceBody(s, source, fn, `() { throw ${ns}.workflowCalledDirectly(${str(fn.id)}); }`, true);
      registrations.push(`${ns}.markWorkflow(${fn.name}, ${str(fn.id)});`);
      workflowIds.push(fn.id);
    }
  }
  if (workflowIds.length > 0) {
    registrations.push(
      `${ns}.registerWorkflowBundleFile(new URL(${str(bundle)}, import.meta.url), ${JSON.stringify(workflowIds)});`,
    );
  }
  return registrations;
}

export function emitClient(
  s: MagicString,
  source: string,
  ns: string,
  functions: readonly DirectiveFunction[],
): string[] {
  for (const fn of functions) {
    if (fn.kind === "step") {
      replaceBody(s, source, fn, `() { throw ${ns}.stepUnavailable(${str(fn.id)}); }`, true);
      continue;
    }
    const reference = `const ${fn.name} = ${ns}.workflowReference(${str(fn.id)});`;
    if (fn.exportKind === "named")
      blank(s, source, fn.statement.start, fn.statement.end, `export ${reference}`);
    else if (fn.exportKind === "default") {
      blank(
        s,
        source,
        fn.statement.start,
        fn.statement.end,
        `${reference} export { ${fn.name} as default };`,
      );
    } else blank(s, source, fn.node.start, fn.node.end, reference);
  }
  return [];
}
