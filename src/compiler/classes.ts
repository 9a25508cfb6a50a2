/**
 * Serializable classes: a top-level class declaration (exported or not) that declares a static
 * `[serialize]` or `[deserialize]` member — keyed by the symbols imported from "stepwise-workflows" (named or
 * through a namespace import) or by `Symbol.for("stepwise.serialize" | "stepwise.deserialize")` — is
 * registered under `class//<path>//<Name>` right after its declaration (classes are not hoisted),
 * in every mode, so its instances can cross step and workflow boundaries in every realm.
 * `registerClass` refuses a class with only half of the pair, naming it, when the module loads.
 *
 *   workflow  globalThis[Symbol.for("stepwise.serde")].registerClass(id, Name);  (the sandbox's helpers)
 *   host      <helper>(id, Name);  with `import { registerClass as <helper> } from "stepwise-workflows"`
 *   client    the same as host
 *
 * Class expressions, anonymous default exports and classes inside functions are not registered:
 * serializing their instances fails with an error that says to call `registerClass` by hand.
 */
import { SERDE_GLOBAL } from "../serde/classes.ts";
import { type AstNode, prop } from "./ast.ts";
import type { ImportInfo } from "./imports.ts";
import { PACKAGE_NAME } from "./package-name.ts";

/** The sandbox's serde helpers (`serialize`, `deserialize`, `registerClass`), as workflow code sees them. */
export const SANDBOX_SERDE = `globalThis[Symbol.for(${JSON.stringify(SERDE_GLOBAL)})]`;

/** The names of "stepwise-workflows" that compiled workflow code takes from `SANDBOX_SERDE`. */
export const SERDE_NAMES: ReadonlySet<string> = new Set(["serialize", "deserialize", "registerClass"]);

const PAIR = new Set(["serialize", "deserialize"]);

export interface SerializableClassDeclaration {
  name: string;
  id: string;
  /** The top-level statement: the declaration or its `export` wrapper. */
  statement: AstNode;
}

/** A cheap test before parsing: the source may declare a serializable class. */
export function mayDeclareSerializableClass(source: string): boolean {
  return /\bserialize\b/.test(source);
}

/** How this file can name the pair: local names of the imported symbols, and "stepwise-workflows" namespaces. */
function pairNames(imports: readonly ImportInfo[]): { symbols: Set<string>; namespaces: Set<string> } {
  const symbols = new Set<string>();
  const namespaces = new Set<string>();
  for (const info of imports) {
    if (info.specifier !== PACKAGE_NAME || info.isType) continue;
    for (const binding of info.bindings) {
      if (binding.isType) continue;
      if (binding.imported === "*") namespaces.add(binding.local);
      else if (PAIR.has(binding.imported)) symbols.add(binding.local);
    }
  }
  return { symbols, namespaces };
}

function isPairKey(key: AstNode, names: { symbols: Set<string>; namespaces: Set<string> }): boolean {
  if (key.type === "Identifier") return names.symbols.has(prop(key, "name") as string);
  if (key.type === "MemberExpression" && prop(key, "computed") === false) {
    const object = prop(key, "object") as AstNode;
    const property = prop(key, "property") as AstNode;
    return (
      object.type === "Identifier" &&
      names.namespaces.has(prop(object, "name") as string) &&
      PAIR.has(prop(property, "name") as string)
    );
  }
  if (key.type === "CallExpression") {
    const callee = prop(key, "callee") as AstNode;
    const [argument] = prop(key, "arguments") as AstNode[];
    const calleeText =
      callee.type === "MemberExpression" &&
      (prop(callee, "object") as AstNode).type === "Identifier" &&
      prop(prop(callee, "object") as AstNode, "name") === "Symbol" &&
      prop(prop(callee, "property") as AstNode, "name") === "for";
    const value = argument?.type === "Literal" ? prop(argument, "value") : undefined;
    return calleeText && (value === "stepwise.serialize" || value === "stepwise.deserialize");
  }
  return false;
}

function declaresPair(
  declaration: AstNode,
  names: { symbols: Set<string>; namespaces: Set<string> },
): boolean {
  const members = prop(prop(declaration, "body") as AstNode, "body") as AstNode[];
  return members.some(
    (member) =>
      (member.type === "MethodDefinition" || member.type === "PropertyDefinition") &&
      prop(member, "static") === true &&
      prop(member, "computed") === true &&
      isPairKey(prop(member, "key") as AstNode, names),
  );
}

/** The top-level class declarations of `program` that declare the pair, with their ids. */
export function findSerializableClasses(
  program: AstNode,
  imports: readonly ImportInfo[],
  path: string,
): SerializableClassDeclaration[] {
  const names = pairNames(imports);
  const found: SerializableClassDeclaration[] = [];
  for (const statement of prop(program, "body") as AstNode[]) {
    const declaration =
      statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration"
        ? (prop(statement, "declaration") as AstNode | null)
        : statement;
    if (declaration?.type !== "ClassDeclaration" || prop(declaration, "declare") === true) continue;
    const id = prop(declaration, "id") as AstNode | null;
    if (id === null || !declaresPair(declaration, names)) continue;
    const name = prop(id, "name") as string;
    found.push({ name, id: `class//${path}//${name}`, statement });
  }
  return found;
}

/** The registration call for `cls`, placed right after its declaration. */
export function classRegistration(register: string, cls: SerializableClassDeclaration): string {
  return `${register}(${JSON.stringify(cls.id)}, ${cls.name});`;
}
