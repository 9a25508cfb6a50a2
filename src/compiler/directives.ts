/**
 * Finds the functions marked "use workflow" or "use step" and refuses every placement the
 * directives cannot work in. A directive counts at the start of the file (it then applies to every
 * exported async function declaration) or at the start of a function body. Only top-level, named,
 * async, non-generator function declarations can carry one; anywhere else is a `CompileError` with
 * the fix, because a directive that silently does nothing is the worst outcome. A directive string
 * that is not in first position is a plain string in JavaScript: it is ignored, with a warning.
 */
import type { Function as FunctionNode } from "oxc-parser";
import { type AstNode, childEntries, isFunctionLike, prologue, prop } from "./ast.ts";
import type { CompileError, Reporter } from "./errors.ts";
import type { ParsedModule } from "./parse.ts";
import { type DirectiveKind, directiveId } from "./project.ts";

export interface DirectiveFunction {
  kind: DirectiveKind;
  name: string;
  id: string;
  /** The function declaration (with a body). */
  node: FunctionNode;
  /** The top-level statement holding it: the declaration itself or its `export` wrapper. */
  statement: AstNode;
  /** How the function is exported: `export async function`, `export default async function`, or not inline. */
  exportKind: "named" | "default" | "none";
}

export interface DirectiveAnalysis {
  fileDirective: DirectiveKind | undefined;
  functions: DirectiveFunction[];
}

const DIRECTIVES: Record<string, DirectiveKind> = { "use workflow": "workflow", "use step": "step" };
const quote = (kind: DirectiveKind): string => `"use ${kind}"`;

function directiveOf(
  statements: readonly AstNode[],
  reporter: Reporter,
  what: string,
): DirectiveKind | undefined {
  const found = prologue(statements).filter((entry) => DIRECTIVES[entry.value] !== undefined);
  if (found.length > 1 && found.some((e) => e.value !== found[0]?.value)) {
    throw reporter.error(
      found[1]?.node.start ?? 0,
      `"use workflow" and "use step" are both on ${what}; it is either a workflow or a step.`,
      "keep only one of the two directives.",
    );
  }
  const first = found[0];
  return first === undefined ? undefined : DIRECTIVES[first.value];
}

function nameOf(node: AstNode | null | undefined): string | undefined {
  if (node?.type === "Identifier") return prop(node, "name") as string;
  if (node?.type === "Literal" && typeof prop(node, "value") === "string")
    return prop(node, "value") as string;
  return undefined;
}

function bodyStatements(fn: AstNode): AstNode[] | undefined {
  const body = prop(fn, "body") as AstNode | null;
  return body?.type === "BlockStatement" ? (prop(body, "body") as AstNode[]) : undefined;
}

/** Why a directive on `fn` (not a valid top-level declaration) cannot work, and the fix. */
function misuse(
  fn: AstNode,
  ancestors: readonly AstNode[],
  kind: DirectiveKind,
  reporter: Reporter,
  at: number,
): CompileError {
  const d = quote(kind);
  const what = kind === "step" ? "a step" : "a workflow";
  const parent = ancestors[ancestors.length - 1];
  if (
    parent !== undefined &&
    (parent.type === "MethodDefinition" ||
      (parent.type === "Property" && (prop(parent, "method") || prop(parent, "kind") !== "init")))
  ) {
    const key = nameOf(prop(parent, "key") as AstNode) ?? "(computed)";
    return reporter.error(
      at,
      `${d} is on the method \`${key}\`; a method cannot be ${what}.`,
      `move the body into a top-level \`async function\` declaration that starts with ${d}, and call it from \`${key}\`.`,
    );
  }
  if (fn.type !== "FunctionDeclaration") {
    const binding =
      parent?.type === "VariableDeclarator" ||
      parent?.type === "Property" ||
      parent?.type === "PropertyDefinition"
        ? nameOf(prop(parent, parent.type === "VariableDeclarator" ? "id" : "key") as AstNode)
        : undefined;
    const shape = fn.type === "ArrowFunctionExpression" ? "an arrow function" : "a function expression";
    return reporter.error(
      at,
      `${d} is on ${shape}${binding ? ` (\`${binding}\`)` : ""}; only function declarations can be ${what}, so this would silently run as ordinary code.`,
      `turn it into a top-level \`async function\` declaration: \`async function ${binding ?? "name"}(...) { ${d}; ... }\`.`,
    );
  }
  const name = nameOf(prop(fn, "id") as AstNode) ?? "(anonymous)";
  const outer = [...ancestors].reverse().find((a) => isFunctionLike(a));
  const outerName = outer === undefined ? undefined : nameOf(prop(outer, "id") as AstNode);
  return reporter.error(
    at,
    `${d} is on \`${name}\`, which is nested ${outerName ? `inside \`${outerName}\`` : "inside a block"}; only top-level functions can be ${what}.`,
    `move \`${name}\` to the top level of the file (as an \`async function\` declaration) and call it from where it was.`,
  );
}

/** Checks a top-level function declaration carrying `kind` (its own or the file's). */
function checkDeclaration(fn: FunctionNode, kind: DirectiveKind, reporter: Reporter, at: number): void {
  const d = quote(kind);
  const what = kind === "step" ? "Steps" : "Workflows";
  const name = fn.id?.name;
  if (name === undefined) {
    throw reporter.error(
      at,
      `${d} applies to an anonymous default export; ${what.toLowerCase()} need a name, which is part of their stable id.`,
      `name the function: \`export default async function myName(...)\`.`,
    );
  }
  if (fn.generator) {
    throw reporter.error(
      at,
      `${d} applies to the generator \`${name}\`; ${what.toLowerCase()} cannot be generators.`,
      `make \`${name}\` a plain \`async function\` that returns its result.`,
    );
  }
  if (!fn.async) {
    throw reporter.error(
      at,
      `${d} is on \`function ${name}\`, which is not async; ${what.toLowerCase()} must be async functions.`,
      `declare it as \`async function ${name}(...)\`.`,
    );
  }
}

export function analyzeDirectives(parsed: ParsedModule, reporter: Reporter, path: string): DirectiveAnalysis {
  const body = parsed.program.body as unknown as AstNode[];
  const fileDirective = directiveOf(body, reporter, "this file");
  const own = new Map<AstNode, { kind: DirectiveKind; at: number }>();

  const visit = (node: AstNode, ancestors: AstNode[]): void => {
    if (node.type === "ExpressionStatement" && typeof prop(node, "directive") !== "string") {
      const expression = prop(node, "expression") as AstNode;
      const value = expression.type === "Literal" ? prop(expression, "value") : undefined;
      if (typeof value === "string" && DIRECTIVES[value] !== undefined) {
        reporter.warn(
          node.start,
          `"${value}" is not the first statement of its ${ancestors.some(isFunctionLike) ? "function body" : "file"}, so JavaScript treats it as a plain string and it has no effect. Move it to the first line if it is meant as a directive.`,
        );
      }
    }
    if (isFunctionLike(node)) {
      const statements = bodyStatements(node);
      const kind = statements === undefined ? undefined : directiveOf(statements, reporter, "this function");
      if (kind !== undefined) {
        const at =
          prologue(statements ?? []).find((e) => DIRECTIVES[e.value] !== undefined)?.node.start ?? node.start;
        const parent = ancestors[ancestors.length - 1];
        const topLevel =
          node.type === "FunctionDeclaration" &&
          (parent?.type === "Program" ||
            ((parent?.type === "ExportNamedDeclaration" || parent?.type === "ExportDefaultDeclaration") &&
              ancestors.length === 2));
        if (!topLevel) throw misuse(node, ancestors, kind, reporter, at);
        checkDeclaration(node as unknown as FunctionNode, kind, reporter, at);
        own.set(node, { kind, at });
      }
    }
    ancestors.push(node);
    for (const [, child] of childEntries(node)) visit(child, ancestors);
    ancestors.pop();
  };
  visit(parsed.program as unknown as AstNode, []);

  const exportedLocals = new Set<string>();
  for (const statement of body) {
    if (statement.type === "ExportNamedDeclaration" && prop(statement, "source") === null) {
      for (const spec of prop(statement, "specifiers") as AstNode[]) {
        const local = nameOf(prop(spec, "local") as AstNode);
        if (local !== undefined) exportedLocals.add(local);
      }
    } else if (statement.type === "ExportDefaultDeclaration") {
      const local = nameOf(prop(statement, "declaration") as AstNode);
      if (local !== undefined) exportedLocals.add(local);
    }
  }

  const functions: DirectiveFunction[] = [];
  for (const statement of body) {
    let fn: AstNode | undefined;
    let exportKind: DirectiveFunction["exportKind"] = "none";
    if (statement.type === "FunctionDeclaration") fn = statement;
    else if (statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration") {
      const declaration = prop(statement, "declaration") as AstNode | null;
      if (declaration?.type === "FunctionDeclaration") {
        fn = declaration;
        exportKind = statement.type === "ExportNamedDeclaration" ? "named" : "default";
      } else if (declaration?.type === "VariableDeclaration" && fileDirective !== undefined) {
        checkExportedVariables(declaration, () => true, fileDirective, reporter);
      }
    } else if (statement.type === "VariableDeclaration" && fileDirective !== undefined) {
      checkExportedVariables(statement, (name) => exportedLocals.has(name), fileDirective, reporter);
    }
    if (fn === undefined || prop(fn, "body") === null) continue;
    const declaration = fn as unknown as FunctionNode;
    const exported =
      exportKind !== "none" || (declaration.id !== null && exportedLocals.has(declaration.id.name));
    const mine = own.get(fn);
    let kind = mine?.kind;
    if (kind === undefined && fileDirective !== undefined && exported && declaration.async) {
      kind = fileDirective;
      checkDeclaration(declaration, kind, reporter, fn.start);
    }
    if (kind === undefined) continue;
    const name = declaration.id?.name ?? "default";
    functions.push({
      kind,
      name,
      id: directiveId(kind, path, name),
      node: declaration,
      statement,
      exportKind,
    });
  }
  return { fileDirective, functions };
}

/** Under a file-level directive, an exported async arrow or function expression would silently not count. */
function checkExportedVariables(
  declaration: AstNode,
  exported: (name: string) => boolean,
  kind: DirectiveKind,
  reporter: Reporter,
): void {
  for (const declarator of prop(declaration, "declarations") as AstNode[]) {
    const init = prop(declarator, "init") as AstNode | null;
    const name = nameOf(prop(declarator, "id") as AstNode);
    if (init === null || name === undefined || !exported(name)) continue;
    if (
      (init.type === "ArrowFunctionExpression" || init.type === "FunctionExpression") &&
      prop(init, "async") === true
    ) {
      const shape =
        init.type === "ArrowFunctionExpression" ? "an async arrow function" : "an async function expression";
      throw reporter.error(
        declarator.start,
        `The file-level ${quote(kind)} applies to exported async function declarations, but \`${name}\` is ${shape}, so it would silently not be ${kind === "step" ? "a step" : "a workflow"}.`,
        `write it as \`export async function ${name}(...) { ... }\`.`,
      );
    }
  }
}
