/**
 * Small helpers over oxc's ESTree-shaped AST: a loose node type, its children (from oxc's
 * visitor keys), and the function shapes the directives care about.
 */
import type { Function as FunctionNode, Node } from "oxc-parser";
import { visitorKeys } from "oxc-parser";

export interface AstNode {
  type: string;
  start: number;
  end: number;
}

export function isNode(value: unknown): value is AstNode {
  return (
    typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"
  );
}

/** A property of `node` by name (for walking shapes generically). */
export function prop(node: AstNode, key: string): unknown {
  return (node as unknown as Record<string, unknown>)[key];
}

/** The child nodes of `node` with the key they sit under, in source order of the keys. */
export function childEntries(node: AstNode): Array<[string, AstNode]> {
  const out: Array<[string, AstNode]> = [];
  for (const key of visitorKeys[node.type] ?? []) {
    const value = prop(node, key);
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) out.push([key, item]);
    } else if (isNode(value)) {
      out.push([key, value]);
    }
  }
  return out;
}

export function asNode(node: AstNode): Node {
  return node as unknown as Node;
}

export type FunctionLike = FunctionNode | (AstNode & { type: "ArrowFunctionExpression" });

export function isFunctionLike(node: AstNode): boolean {
  return (
    node.type === "FunctionDeclaration" ||
    node.type === "FunctionExpression" ||
    node.type === "ArrowFunctionExpression"
  );
}

/** The directive prologue of a block (file or function body): its leading directive statements. */
export function prologue(statements: readonly AstNode[]): Array<{ value: string; node: AstNode }> {
  const out: Array<{ value: string; node: AstNode }> = [];
  for (const statement of statements) {
    const directive = statement.type === "ExpressionStatement" ? prop(statement, "directive") : undefined;
    if (typeof directive !== "string") break;
    out.push({ value: directive, node: statement });
  }
  return out;
}
