/**
 * Where a file sits in its project, and the stable ids derived from that: the project root is the
 * nearest ancestor directory holding a package.json, and ids are
 * `workflow//<path relative to the root>//<name>` and `step//<path>//<name>`, with forward slashes
 * on every platform. The same file gets the same ids in every compiler mode and in every process.
 * Files of npm packages get `npm:<package>/<path inside it>` instead (`packages.ts`), wherever
 * the package is installed.
 * Also: the tsconfig.json that applies to a file, for type stripping.
 */
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { packageIdPath, packageOf } from "./packages.ts";

const roots = new Map<string, string>();
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
  return projectPath(root ?? findProjectRoot(file), file);
}

export type DirectiveKind = "workflow" | "step";

export function directiveId(kind: DirectiveKind, path: string, name: string): string {
  return `${kind}//${path}//${name}`;
}
