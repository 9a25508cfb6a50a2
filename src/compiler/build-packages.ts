/**
 * npm packages with directives in the ahead-of-time build. A built app runs with plain `node`, so
 * a package that ships `"use workflow"` / `"use step"` cannot be imported from node_modules as
 * published: it would run as plain code. The build finds the packages the project imports, and
 * their dependencies (from each package.json), looks for files with a directive (a text test, the
 * same as the loader's), and emits a copy of every package that has one, or that leads to one, under
 * `<outDir>/node_modules/` (mirroring where it was installed), with those files compiled in host
 * mode and their sandbox bundles beside them. The emitted app resolves these copies first, as Node
 * looks in the nearest node_modules; everything else still comes from the project's node_modules.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { cp, readFile } from "node:fs/promises";
import { dirname, extname, join, relative, sep } from "node:path";
import { commonJsDirectiveError, isCommonJs } from "./commonjs.ts";
import { isNodeBuiltin } from "./imports.ts";
import { PACKAGE_NAME } from "./package-name.ts";
import { PACKAGE_DIRECTIVE_TEXT } from "./packages.ts";

/** A package the build must emit: `files` are its files with a directive (none: it only leads to one). */
export interface EmittedPackage {
  /** The package's real directory. */
  dir: string;
  /** Where its copy goes, relative to the output directory (`node_modules/@acme/durable`). */
  target: string;
  files: string[];
}

const SCANNED = new Set([".js", ".mjs", ".cjs"]);

/** The package a bare specifier names (`@acme/durable/steps` → `@acme/durable`), else `undefined`. */
export function bareSpecifierPackage(specifier: string): string | undefined {
  if (/^[./#]/.test(specifier) || /^[a-z]+:/i.test(specifier) || isNodeBuiltin(specifier)) return undefined;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  return name === undefined || name === "" || name === PACKAGE_NAME ? undefined : name;
}

/** Where Node finds package `name` from a file in `fromDir`: the first `node_modules/<name>` upward. */
function locate(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", ...name.split("/"));
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** A file's text; a broken link or a directory named like a file reads as empty. */
function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The package's own source files that contain a directive (its nested node_modules are other packages). */
function directiveFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(path);
      } else if (SCANNED.has(extname(entry.name)) && PACKAGE_DIRECTIVE_TEXT.test(readText(path))) {
        found.push(path);
      }
    }
  };
  walk(dir);
  return found.sort();
}

function dependencies(dir: string): string[] {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    const names = new Set<string>();
    for (const field of ["dependencies", "optionalDependencies", "peerDependencies"]) {
      const deps = manifest[field];
      if (typeof deps === "object" && deps !== null) for (const name of Object.keys(deps)) names.add(name);
    }
    names.delete(PACKAGE_NAME);
    return [...names];
  } catch {
    return [];
  }
}

/**
 * The packages to emit for imports of `imports` (package name and the importing file): those with
 * directive files, and those on a dependency path from the project to one. A CommonJS file with a
 * directive is refused here, at its line.
 */
export async function findDurablePackages(
  root: string,
  imports: ReadonlyArray<{ name: string; from: string }>,
): Promise<EmittedPackage[]> {
  const nodes = new Map<string, { located: string; files: string[]; parents: Set<string> }>();
  const queue: Array<{ name: string; fromDir: string; parent: string | undefined }> = imports.map((i) => ({
    name: i.name,
    fromDir: dirname(i.from),
    parent: undefined,
  }));
  while (queue.length > 0) {
    const { name, fromDir, parent } = queue.shift() as (typeof queue)[number];
    const located = locate(name, fromDir);
    if (located === undefined) continue;
    const real = realpathSync(located);
    const known = nodes.get(real);
    if (known !== undefined) {
      if (parent !== undefined) known.parents.add(parent);
      continue;
    }
    const files = directiveFiles(real);
    for (const file of files) {
      if (!isCommonJs(file)) continue;
      const error = commonJsDirectiveError(file, await readFile(file, "utf8"));
      if (error !== undefined) throw error;
    }
    nodes.set(real, { located, files, parents: new Set(parent === undefined ? [] : [parent]) });
    for (const dep of dependencies(real)) queue.push({ name: dep, fromDir: real, parent: real });
  }
  const emit = new Set<string>();
  const mark = (dir: string): void => {
    if (emit.has(dir)) return;
    emit.add(dir);
    for (const parent of nodes.get(dir)?.parents ?? []) mark(parent);
  };
  for (const [dir, node] of nodes) if (node.files.length > 0) mark(dir);
  return [...emit]
    .map((dir) => {
      const node = nodes.get(dir) as { located: string; files: string[] };
      const rel = relative(root, node.located);
      const declared = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown })
        .name;
      const name = typeof declared === "string" ? declared : relative(dirname(node.located), node.located);
      // Installed above the project (a monorepo's root): the copy goes to the top of the output's node_modules.
      const target =
        rel.startsWith("..") || !rel.startsWith(`node_modules${sep}`)
          ? join("node_modules", ...name.split("/"))
          : rel;
      return { dir, target, files: node.files };
    })
    .sort((a, b) => a.target.length - b.target.length);
}

/** Copies a package as it is (its nested node_modules too) to `dest`; its directive files are compiled over it after. */
export async function copyPackage(dir: string, dest: string): Promise<void> {
  await cp(dir, dest, { recursive: true, dereference: true, force: true });
}
