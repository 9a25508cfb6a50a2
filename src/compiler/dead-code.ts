/**
 * Top-level declarations that only stripped code used. When step bodies leave workflow code (or
 * every body leaves client code), a module-level `const client = new Stripe(process.env.KEY)` that
 * only steps read would still run in the sandbox and fail there. Such declarations are removed,
 * repeatedly, until nothing else becomes unused. Exported declarations stay (other modules may
 * read them), and so does anything that was unused to begin with (it may be there for its effect).
 */
import { type AstNode, prop } from "./ast.ts";
import { collectReferences, type References } from "./references.ts";

function bindingNames(pattern: AstNode | null, out: string[]): string[] {
  if (pattern === null) return out;
  switch (pattern.type) {
    case "Identifier":
      out.push(prop(pattern, "name") as string);
      break;
    case "ObjectPattern":
      for (const p of prop(pattern, "properties") as AstNode[]) {
        bindingNames((p.type === "RestElement" ? prop(p, "argument") : prop(p, "value")) as AstNode, out);
      }
      break;
    case "ArrayPattern":
      for (const e of prop(pattern, "elements") as Array<AstNode | null>) bindingNames(e, out);
      break;
    case "RestElement":
      bindingNames(prop(pattern, "argument") as AstNode, out);
      break;
    case "AssignmentPattern":
      bindingNames(prop(pattern, "left") as AstNode, out);
      break;
  }
  return out;
}

/** The names a removable top-level statement declares, or undefined when it must stay. */
function declaredNames(statement: AstNode): string[] | undefined {
  if (prop(statement, "declare") === true) return undefined;
  switch (statement.type) {
    case "VariableDeclaration":
      return (prop(statement, "declarations") as AstNode[]).flatMap((d) =>
        bindingNames(prop(d, "id") as AstNode, []),
      );
    case "FunctionDeclaration":
    case "ClassDeclaration": {
      const id = prop(statement, "id") as AstNode | null;
      return id === null ? undefined : [prop(id, "name") as string];
    }
    default:
      return undefined;
  }
}

export interface DeadCodeResult {
  removed: Set<AstNode>;
  after: References;
}

/** Removes top-level declarations made unused by excluding `stripped`; returns them and the final references. */
export function removeDeadDeclarations(
  program: AstNode,
  stripped: ReadonlySet<AstNode>,
  before: References,
  keep: ReadonlySet<AstNode>,
): DeadCodeResult {
  const removed = new Set<AstNode>();
  const statements = prop(program, "body") as AstNode[];
  for (;;) {
    const after = collectReferences(program, new Set([...stripped, ...removed]));
    let changed = false;
    for (const statement of statements) {
      if (removed.has(statement) || keep.has(statement)) continue;
      const names = declaredNames(statement);
      if (names === undefined || names.length === 0) continue;
      if (names.every((n) => !after.names.has(n)) && names.some((n) => before.names.has(n))) {
        removed.add(statement);
        changed = true;
      }
    }
    if (!changed) return { removed, after };
  }
}
