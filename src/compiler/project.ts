/**
 * Where a file sits in its project, and the stable ids derived from that: the project root is the
 * nearest ancestor directory holding a package.json, and ids are
 * `workflow//<path relative to the root>//<name>` and `step//<path>//<name>`, with forward slashes
 * on every platform. The same file gets the same ids in every compiler mode and in every process.
 * Files of npm packages get `npm:<package>/<path inside it>` instead (`packages.ts`), wherever
 * the package is installed.
 * A moved or renamed file keeps its ids when the project's package.json says where it was:
 * `"stepwise": { "renamed": { "<old path>": "<new path>" } }` (paths relative to the project root),
 * so the runs in flight still find their workflow and steps (docs/compiler.md §2).
 * Also: the tsconfig.json that applies to a file, for type stripping.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { packageIdPath, packageOf } from "./packages.ts";

const roots = new Map<string, string>();
const renameMaps = new Map<string, Renames>();

/** A project's `stepwise.renamed`: for each new path, the path it had before; the paths left. */
interface Renames {
  before: Map<string, string>;
  left: Set<string>;
}
const tsconfigs = new Map<string, string | undefined>();

/**
 * The nearest tsconfig.json at or above the directory of `file`, as TypeScript finds it; for a
 * file of an npm package, only within that package (the application's tsconfig is not its own).
 */
export function findTsconfig(file: string): string | undefined {
  const start = dirname(resolve(file));
  if (tsconfigs.has(start)) return tsconfigs.get(start);
  const stop = packageOf(file)?.dir;
  let found: string | undefined;
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "tsconfig.json"))) {
      found = join(dir, "tsconfig.json");
      break;
    }
    if (dirname(dir) === dir || dir === stop) break;
  }
  tsconfigs.set(start, found);
  return found;
}

/** The nearest ancestor directory of `file` with a package.json (the file's own directory first). */
export function findProjectRoot(file: string): string {
  const start = dirname(resolve(file));
  const cached = roots.get(start);
  if (cached !== undefined) return cached;
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) break;
    const parent = dirname(dir);
    if (parent === dir) {
      dir = start;
      break;
    }
    dir = parent;
  }
  roots.set(start, dir);
  return dir;
}

/** `file` relative to `root`, with forward slashes. */
export function projectPath(root: string, file: string): string {
  return relative(root, resolve(file)).split("\\").join("/");
}

/**
 * The `<path>` part of the ids of `file`: its path relative to `root` (by default its project
 * root), or `npm:<package>/<path inside the package>` for a file under node_modules.
 */
export function idPath(file: string, root?: string): string {
  const pkg = packageOf(file);
  if (pkg !== undefined) return packageIdPath(pkg);
  const project = root ?? findProjectRoot(file);
  return keptPath(project, projectPath(project, file));
}

/**
 * The path whose ids a file at `path` (relative to `root`) has: the path it was first at, following
 * the project's `stepwise.renamed` back through every move; `path` itself if it never moved.
 */
export function keptPath(root: string, path: string): string {
  const { before } = renamesOf(root);
  const seen = new Set([path]);
  let current = path;
  for (let previous = before.get(current); previous !== undefined; previous = before.get(current)) {
    if (seen.has(previous))
      throw new Error(
        `${join(root, "package.json")}: "stepwise.renamed" goes round in a circle through ${previous}. Each entry says where a file was ("old path": "new path"); remove the entry that leads back.`,
      );
    seen.add(previous);
    current = previous;
  }
  return current;
}

/**
 * Whether `path` (relative to `root`) is listed in the project's `stepwise.renamed` as a file that
 * moved away: a file with directives there again would take the ids its successor keeps.
 */
export function movedAway(root: string, path: string): boolean {
  return renamesOf(root).left.has(path);
}

/** Reads (once per root) the `stepwise.renamed` of the project's package.json, checking it. */
function renamesOf(root: string): Renames {
  const cached = renameMaps.get(root);
  if (cached !== undefined) return cached;
  const renames: Renames = { before: new Map(), left: new Set() };
  const file = join(root, "package.json");
  let manifest: { stepwise?: { renamed?: unknown } } | undefined;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // No package.json (or one that is not JSON, which npm reports better): nothing moved.
  }
  const renamed = manifest?.stepwise?.renamed;
  if (renamed !== undefined) {
    if (typeof renamed !== "object" || renamed === null || Array.isArray(renamed))
      throw new Error(
        `${file}: "stepwise.renamed" must be an object of "old path": "new path" entries (paths relative to ${root}), not ${JSON.stringify(renamed)}.`,
      );
    for (const [from, to] of Object.entries(renamed)) {
      if (typeof to !== "string" || to === "" || to === from)
        throw new Error(
          `${file}: "stepwise.renamed" entry "${from}" must name the file's new path (relative to ${root}), not ${JSON.stringify(to)}.`,
        );
      const [oldPath, newPath] = [normalize(from), normalize(to)];
      const other = renames.before.get(newPath);
      if (other !== undefined)
        throw new Error(
          `${file}: "stepwise.renamed" moves both ${other} and ${oldPath} to ${newPath}; a file can keep the ids of only one path. Keep one entry (the runs of the other file's workflows then wait for a worker that has them).`,
        );
      renames.before.set(newPath, oldPath);
      renames.left.add(oldPath);
    }
  }
  renameMaps.set(root, renames);
  return renames;
}

/** A path as ids spell it: forward slashes, no leading `./`. */
function normalize(path: string): string {
  return path
    .split("\\")
    .join("/")
    .replace(/^(\.\/)+/, "");
}

export type DirectiveKind = "workflow" | "step";

export function directiveId(kind: DirectiveKind, path: string, name: string): string {
  return `${kind}//${path}//${name}`;
}
