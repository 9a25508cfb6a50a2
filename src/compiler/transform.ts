/**
 * The directive transform: one source file in, the code for one mode out, still in the source's
 * language (TypeScript stays TypeScript; `compile.ts` strips the types after). Edits are made with
 * magic-string on the original text, keeping every untouched line where it was, and come with a
 * source map back to the original.
 *
 *   workflow  code for the sandbox: step bodies become stubs calling into the runtime, workflows
 *             are registered with the sandbox registrar, `stepwise-workflows` is the sandbox api, imports and
 *             top-level declarations only the steps used are dropped, Node built-ins are refused.
 *   host      what Node runs: steps registered with `registerStep`, workflow bodies replaced by an
 *             error (they only run through `start()`), each workflow carrying its `workflowId`, and
 *             the file's sandbox bundle registered.
 *   client    for code that only starts runs: workflows become references, step bodies throw.
 *
 * In every mode, top-level classes with a static serialize / deserialize pair are registered under
 * their class id right after their declaration (see `classes.ts`).
 */
import { basename, extname } from "node:path";
import MagicString, { type SourceMap } from "magic-string";
import { type AstNode, prologue, prop } from "./ast.ts";
import {
  classRegistration,
  findSerializableClasses,
  mayDeclareSerializableClass,
  SANDBOX_SERDE,
} from "./classes.ts";
import { removeDeadDeclarations } from "./dead-code.ts";
import { analyzeDirectives, type DirectiveFunction } from "./directives.ts";
import { emitClient, emitHost, emitWorkflow } from "./emit.ts";
import { type CompileWarning, Reporter } from "./errors.ts";
import {
  collectImports,
  type ImportContext,
  rewriteClientImports,
  rewriteHostImports,
  rewriteWorkflowImports,
} from "./imports.ts";
import { packageOf } from "./packages.ts";
import { parseModule, type SourceLang } from "./parse.ts";
import { findProjectRoot, idPath, movedAway, projectPath } from "./project.ts";
import { collectReferences } from "./references.ts";

export type CompileMode = "workflow" | "host" | "client";

export interface TransformOptions {
  /** Absolute path of the file. */
  filename: string;
  mode: CompileMode;
  /**
   * The project root ids are relative to; by default the nearest directory with a package.json.
   * Files under node_modules ignore it: their ids are `npm:<package>/<path in it>` (`packages.ts`).
   */
  root?: string;
  /** Host mode: URL of the file's sandbox bundle, relative to the output module or absolute. */
  sandboxBundle?: string;
  /** Workflow mode, for a file the bundle of another workflow file imports: that file, for messages. */
  bundleEntry?: string;
  /** Rewrites module specifiers (ahead-of-time builds); `undefined` keeps a specifier as it is. */
  rewriteSpecifier?: (specifier: string) => string | undefined;
  /** The source's language when the file name does not say it (a Svelte component's script). */
  lang?: SourceLang;
}

export interface CompiledFunction {
  name: string;
  id: string;
}

export interface TransformResult {
  code: string;
  map: SourceMap;
  /** False when the output is the input unchanged. */
  changed: boolean;
  workflows: CompiledFunction[];
  steps: CompiledFunction[];
  warnings: CompileWarning[];
}

const DIRECTIVE_TEXT = /["']use (?:workflow|step)["']/;

/**
 * True when `source` may need the transform (a cheap test before parsing): it may contain a
 * directive, or a class with a static serialize / deserialize pair to register.
 */
export function mayContainDirectives(source: string): boolean {
  return DIRECTIVE_TEXT.test(source) || mayDeclareSerializableClass(source);
}

function helperName(source: string): string {
  let name = "__stepwise";
  for (let i = 2; source.includes(name); i++) name = `__stepwise${i}`;
  return name;
}

/**
 * Where the helper binding goes without moving any line: after the file's directive prologue
 * (on the same line), or else at the start of the first line after a hashbang.
 */
function insertionPoint(source: string, program: AstNode): number {
  const last = prologue(prop(program, "body") as AstNode[]).at(-1);
  if (last !== undefined) return last.node.end;
  return source.startsWith("#!") ? source.indexOf("\n") + 1 || source.length : 0;
}

export function transformDirectives(source: string, options: TransformOptions): TransformResult {
  const { filename, mode } = options;
  const s = new MagicString(source);
  const finish = (
    workflows: CompiledFunction[],
    steps: CompiledFunction[],
    warnings: CompileWarning[],
  ): TransformResult => ({
    code: s.toString(),
    map: s.generateMap({ hires: true, source: basename(filename), includeContent: true }),
    changed: s.hasChanged(),
    workflows,
    steps,
    warnings,
  });
  if (mode !== "workflow" && options.rewriteSpecifier === undefined && !mayContainDirectives(source)) {
    return finish([], [], []);
  }

  const parsed = parseModule(source, filename, options.lang);
  const reporter = new Reporter(filename, parsed.lines);
  const path = idPath(filename, options.root);
  const program = parsed.program as unknown as AstNode;
  const analysis = analyzeDirectives(parsed, reporter, path);
  const first = analysis.functions[0];
  if (first !== undefined && packageOf(filename) === undefined) {
    const root = options.root ?? findProjectRoot(filename);
    const own = projectPath(root, filename);
    if (movedAway(root, own))
      throw reporter.error(
        first.node.start,
        `${own} is listed in package.json's "stepwise.renamed" as a file that moved away, and the file there now has directives: its ids would be the ones the moved file keeps.`,
        `name this file differently, or, once no run of the moved file's workflows is in flight, remove its "stepwise.renamed" entry.`,
      );
  }
  const workflows = analysis.functions.filter((f) => f.kind === "workflow");
  const steps = analysis.functions.filter((f) => f.kind === "step");
  const stripped = new Set<AstNode>(
    (mode === "workflow" ? steps : mode === "host" ? workflows : analysis.functions).map(
      (f) => f.node as unknown as AstNode,
    ),
  );
  const before = collectReferences(program, new Set());
  const keep = new Set(analysis.functions.map((f) => f.statement));
  const { removed, after } =
    mode === "host"
      ? { removed: new Set<AstNode>(), after: collectReferences(program, stripped) }
      : removeDeadDeclarations(program, stripped, before, keep);

  const rewritten = new Map<AstNode, string>();
  const specifierText = (node: AstNode): string => rewritten.get(node) ?? source.slice(node.start, node.end);
  if (options.rewriteSpecifier !== undefined)
    rewriteSpecifiers(s, program, options.rewriteSpecifier, rewritten);

  const ns = helperName(source);
  const ctx: ImportContext = {
    s,
    source,
    reporter,
    before,
    after,
    ns,
    specifierText,
    workflowReason:
      options.bundleEntry === undefined
        ? "this file is compiled as workflow code"
        : `this file is part of the workflow code of ${options.bundleEntry}`,
  };
  const imports = collectImports(program);
  for (const statement of removed) blankStatement(s, source, statement);
  const classes = findSerializableClasses(program, imports, path).filter(
    (cls) => !removed.has(cls.statement),
  );
  const registerClass = mode === "workflow" ? `${SANDBOX_SERDE}.registerClass` : `${ns}Class`;
  for (const cls of classes) s.appendLeft(cls.statement.end, ` ${classRegistration(registerClass, cls)}`);

  let prelude: string | undefined;
  let registrations: string[] = [];
  if (mode === "workflow") {
    const usesApi = rewriteWorkflowImports(ctx, imports);
    registrations = emitWorkflow(s, source, ns, analysis.functions);
    if (usesApi || analysis.functions.length > 0) {
      prelude = `const ${ns} = globalThis[Symbol.for("stepwise.sandbox")].registrar;`;
    }
  } else if (mode === "host") {
    rewriteHostImports(ctx, imports);
    registrations = emitHost(
      s,
      source,
      ns,
      analysis.functions,
      options.sandboxBundle ?? defaultBundleName(filename),
    );
  } else {
    rewriteClientImports(ctx, imports);
    registrations = emitClient(s, source, ns, analysis.functions);
  }
  if (mode !== "workflow" && analysis.functions.length > 0)
    prelude = `import * as ${ns} from "stepwise-workflows/internal";`;
  if (mode !== "workflow" && classes.length > 0)
    registrations.unshift(`import { registerClass as ${registerClass} } from "stepwise-workflows";`);
  // Registrations go right after the helper binding, on the same line: function declarations are
  // hoisted, so they already exist there, and code later in the module (a top-level `await
  // start(fn)` in the same file) sees them registered.
  const header = [prelude, ...registrations].filter((x) => x !== undefined).join(" ");
  if (header !== "") {
    const at = insertionPoint(source, program);
    s.appendLeft(at, at > 0 && source[at - 1] !== "\n" ? ` ${header}` : `${header} `);
  }

  const summary = (list: DirectiveFunction[]): CompiledFunction[] =>
    list.map(({ name, id }) => ({ name, id }));
  return finish(summary(workflows), summary(steps), reporter.warnings);
}

/** The default sandbox bundle of `file`: `./<name>.sandbox.js` beside the output module. */
export function defaultBundleName(file: string): string {
  return `./${basename(file, extname(file))}.sandbox.js`;
}

function blankStatement(s: MagicString, source: string, statement: AstNode): void {
  const breaks = source.slice(statement.start, statement.end).split("\n").length - 1;
  if (breaks === 0) s.remove(statement.start, statement.end);
  else s.overwrite(statement.start, statement.end, "\n".repeat(breaks));
}

/** Rewrites the literal specifiers of imports, re-exports and `import()` calls. */
function rewriteSpecifiers(
  s: MagicString,
  program: AstNode,
  rewrite: (specifier: string) => string | undefined,
  rewritten: Map<AstNode, string>,
): void {
  const visit = (node: AstNode): void => {
    const source =
      node.type === "ImportDeclaration" ||
      node.type === "ExportNamedDeclaration" ||
      node.type === "ExportAllDeclaration" ||
      node.type === "ImportExpression"
        ? (prop(node, "source") as AstNode | null)
        : null;
    if (source?.type === "Literal" && typeof prop(source, "value") === "string") {
      const next = rewrite(prop(source, "value") as string);
      if (next !== undefined) {
        const text = JSON.stringify(next);
        rewritten.set(source, text);
        s.overwrite(source.start, source.end, text);
      }
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value)
          if (typeof item === "object" && item !== null && "type" in item) visit(item as AstNode);
      } else if (typeof value === "object" && value !== null && "type" in value) visit(value as AstNode);
    }
  };
  visit(program);
}
