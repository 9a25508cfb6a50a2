/**
 * Files of npm packages (anything under a `node_modules` directory): which package a file belongs
 * to, and the path its workflow and step ids are built from. A package that ships `"use workflow"`
 * or `"use step"` is compiled like the project's own code, but its ids must not depend on where it
 * is installed (hoisted, nested, pnpm's `.pnpm` store) nor on which project uses it, so they are
 * `npm:<package name>/<path inside the package>`: `step//npm:@acme/durable/dist/steps.js//charge`.
 * The package version is left out on purpose: ids are recorded in event logs, and upgrading a
 * package whose steps did not change must not strand the runs in flight (see docs/compiler.md §2).
 * The `npm:` prefix keeps package ids apart from project paths (a colon cannot start a relative
 * path a project file has on every platform).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";

const NODE_MODULES = `${sep}node_modules${sep}`;
const names = new Map<string, string>();

/** The text test run before parsing a package file: only files that contain a directive are compiled. */
export const PACKAGE_DIRECTIVE_TEXT = /["']use (?:workflow|step)["']/;

export interface PackageFile {
  /** The package's name, from its package.json (the directory name when it has none). */
  name: string;
  /** The package's directory (the one right under the last `node_modules`). */
  dir: string;
  /** The file's path inside the package, with forward slashes. */
  path: string;
  /** The directory that holds the outermost `node_modules`: the project that installed it. */
  projectRoot: string;
}

/** True when `file` is inside a `node_modules` directory. */
export function inNodeModules(file: string): boolean {
  return file.includes(NODE_MODULES);
}

function packageName(dir: string, fallback: string): string {
  const cached = names.get(dir);
  if (cached !== undefined) return cached;
  let name = fallback;
  const manifest = join(dir, "package.json");
  if (existsSync(manifest)) {
    try {
      const declared = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name;
      if (typeof declared === "string" && declared !== "") name = declared;
    } catch {
      // An unreadable package.json: the directory name is the best name there is.
    }
  }
  names.set(dir, name);
  return name;
}

/** The package `file` belongs to, or `undefined` when it is not under `node_modules`. */
export function packageOf(file: string): PackageFile | undefined {
  const absolute = resolve(file);
  const last = absolute.lastIndexOf(NODE_MODULES);
  if (last < 0) return undefined;
  const base = absolute.slice(0, last + NODE_MODULES.length);
  const parts = absolute.slice(base.length).split(sep);
  const take = parts[0]?.startsWith("@") ? 2 : 1;
  if (parts.length <= take) return undefined;
  const dirName = parts.slice(0, take).join("/");
  const dir = base + parts.slice(0, take).join(sep);
  return {
    name: packageName(dir, dirName),
    dir,
    path: parts.slice(take).join("/"),
    projectRoot: absolute.slice(0, absolute.indexOf(NODE_MODULES)) || sep,
  };
}

/** The `<path>` part of the ids of a package file: `npm:<name>/<path inside the package>`. */
export function packageIdPath(pkg: PackageFile): string {
  return `npm:${pkg.name}/${pkg.path}`;
}
