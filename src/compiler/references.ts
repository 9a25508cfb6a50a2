/**
 * Which names the code still reads once some function bodies are removed: the identifiers in value
 * positions (not declarations, property keys, labels or TypeScript types) outside the excluded
 * functions and statements, plus the module specifiers of `import()` and `require()` calls. This
 * decides which imports and top-level declarations become unused after stripping.
 *
 * It ignores shadowing on purpose: a local variable named like an import keeps the import, which
 * can only keep code that is not needed, never drop code that is.
 */
import { type AstNode, childEntries, prop } from "./ast.ts";

export interface References {
  /** Name → offsets of its value references. */
  names: Map<string, number[]>;
  /** `import("x")` and `require("x")` with a literal specifier. */
  dynamicImports: Array<{ specifier: string; start: number }>;
  /** Name → offsets of its value references outside every function (module initialisation code). */
  topLevel: Map<string, number[]>;
  /** Offsets of `await` (and `for await`) outside every function. */
  topLevelAwaits: number[];
}

/** Keys that hold TypeScript types or other non-value syntax, never value references. */
const TYPE_KEYS = new Set([
  "typeAnnotation",
  "returnType",
  "typeParameters",
  "typeArguments",
  "superTypeArguments",
  "implements",
]);
const TYPE_ONLY = new Set([
  "TSInterfaceDeclaration",
  "TSTypeAliasDeclaration",
  "TSDeclareFunction",
  "ImportDeclaration",
  "TSEmptyBodyFunctionExpression",
]);

export function collectReferences(program: AstNode, excluded: ReadonlySet<AstNode>): References {
  const names = new Map<string, number[]>();
  const dynamicImports: References["dynamicImports"] = [];
  const topLevel = new Map<string, number[]>();
  const topLevelAwaits: number[] = [];
  let depth = 0;
  const push = (map: Map<string, number[]>, name: string, at: number): void => {
    const list = map.get(name);
    if (list === undefined) map.set(name, [at]);
    else list.push(at);
  };
  const add = (name: string, at: number): void => {
    push(names, name, at);
    if (depth === 0) push(topLevel, name, at);
  };

  const pattern = (node: AstNode): void => {
    switch (node.type) {
      case "Identifier":
        return;
      case "ObjectPattern":
        for (const p of prop(node, "properties") as AstNode[]) {
          if (p.type === "RestElement") pattern(prop(p, "argument") as AstNode);
          else {
            if (prop(p, "computed") === true) expression(prop(p, "key") as AstNode);
            pattern(prop(p, "value") as AstNode);
          }
        }
        return;
      case "ArrayPattern":
        for (const e of prop(node, "elements") as Array<AstNode | null>) if (e !== null) pattern(e);
        return;
      case "RestElement":
        pattern(prop(node, "argument") as AstNode);
        return;
      case "AssignmentPattern":
        pattern(prop(node, "left") as AstNode);
        expression(prop(node, "right") as AstNode);
        return;
      case "TSParameterProperty":
        for (const d of (prop(node, "decorators") as AstNode[] | undefined) ?? []) expression(d);
        pattern(prop(node, "parameter") as AstNode);
        return;
      default:
        expression(node);
    }
  };

  const fn = (node: AstNode): void => {
    if (excluded.has(node)) return;
    depth++;
    for (const p of prop(node, "params") as AstNode[]) pattern(p);
    const body = prop(node, "body") as AstNode | null;
    if (body !== null) expression(body);
    depth--;
  };

  const expression = (node: AstNode): void => {
    if (excluded.has(node) || TYPE_ONLY.has(node.type)) return;
    if (prop(node, "declare") === true) return;
    switch (node.type) {
      case "Identifier":
        add(prop(node, "name") as string, node.start);
        return;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        fn(node);
        return;
      case "ClassDeclaration":
      case "ClassExpression":
        for (const d of (prop(node, "decorators") as AstNode[] | undefined) ?? []) expression(d);
        if (prop(node, "superClass")) expression(prop(node, "superClass") as AstNode);
        expression(prop(node, "body") as AstNode);
        return;
      case "VariableDeclarator":
        pattern(prop(node, "id") as AstNode);
        if (prop(node, "init")) expression(prop(node, "init") as AstNode);
        return;
      case "CatchClause":
        expression(prop(node, "body") as AstNode);
        return;
      case "MemberExpression":
        expression(prop(node, "object") as AstNode);
        if (prop(node, "computed") === true) expression(prop(node, "property") as AstNode);
        return;
      case "Property":
      case "MethodDefinition":
      case "PropertyDefinition":
      case "AccessorProperty":
        for (const d of (prop(node, "decorators") as AstNode[] | undefined) ?? []) expression(d);
        if (prop(node, "computed") === true) expression(prop(node, "key") as AstNode);
        if (prop(node, "value")) expression(prop(node, "value") as AstNode);
        return;
      case "LabeledStatement":
        expression(prop(node, "body") as AstNode);
        return;
      case "JSXIdentifier":
        add(prop(node, "name") as string, node.start);
        return;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
        return;
      case "ExportNamedDeclaration":
        if (prop(node, "declaration")) expression(prop(node, "declaration") as AstNode);
        if (prop(node, "source") === null) {
          for (const spec of prop(node, "specifiers") as AstNode[]) {
            if (prop(spec, "exportKind") !== "type") expression(prop(spec, "local") as AstNode);
          }
        }
        return;
      case "ExportAllDeclaration":
        return;
      case "TSEnumDeclaration":
        for (const member of prop(prop(node, "body") as AstNode, "members") as AstNode[]) {
          if (prop(member, "initializer")) expression(prop(member, "initializer") as AstNode);
        }
        return;
      case "TSModuleDeclaration":
        if (prop(node, "body")) expression(prop(node, "body") as AstNode);
        return;
      case "TSImportEqualsDeclaration": {
        let ref = prop(node, "moduleReference") as AstNode;
        while (ref.type === "TSQualifiedName") ref = prop(ref, "left") as AstNode;
        if (ref.type === "Identifier") expression(ref);
        return;
      }
      case "AwaitExpression":
        if (depth === 0) topLevelAwaits.push(node.start);
        break;
      case "ForOfStatement":
        if (depth === 0 && prop(node, "await") === true) topLevelAwaits.push(node.start);
        break;
      case "ImportExpression": {
        const source = prop(node, "source") as AstNode;
        if (source.type === "Literal" && typeof prop(source, "value") === "string") {
          dynamicImports.push({ specifier: prop(source, "value") as string, start: node.start });
        }
        break;
      }
      case "CallExpression": {
        const callee = prop(node, "callee") as AstNode;
        const first = (prop(node, "arguments") as AstNode[])[0];
        if (
          callee.type === "Identifier" &&
          prop(callee, "name") === "require" &&
          first?.type === "Literal" &&
          typeof prop(first, "value") === "string"
        ) {
          dynamicImports.push({ specifier: prop(first, "value") as string, start: node.start });
        }
        break;
      }
    }
    for (const [key, child] of childEntries(node)) {
      if (!TYPE_KEYS.has(key)) expression(child);
    }
  };

  expression(program);
  return { names, dynamicImports, topLevel, topLevelAwaits };
}
