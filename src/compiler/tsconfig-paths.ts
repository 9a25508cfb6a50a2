/**
 * Resolves the non-relative imports a project maps in its tsconfig.json (`"paths": { "@/*":
 * ["./src/*"] }`, or `baseUrl`), in the order TypeScript uses: the best `paths` pattern (an exact
 * one, else the longest prefix before its `*`) and its substitutions in order, then `baseUrl`;
 * each candidate found the way `resolve.ts` finds relative ones (`x.js` that is `x.ts`, no
 * extension, `dir/index.ts`). Whatever this does not map goes to normal resolution (node_modules).
 * Only files of the project are resolved this way: a package in node_modules does not follow the
 * application's tsconfig. One function, shared by the `stepwise-workflows/register` hooks, the
 * sandbox bundle and `npx stepwise build`, so the three resolve alike.
 */
import { resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { isNodeBuiltin } from "./imports.ts";
import { findTsconfig } from "./project.ts";
import { resolveSourcePath } from "./resolve.ts";
import { readTsconfigPaths, type TsconfigPaths } from "./tsconfig.ts";

/** A resolution through tsconfig: the file, and the tsconfig files that decided it. */
export interface TsconfigResolution {
  file: string;
  tsconfigFiles: string[];
}

/** True for specifiers tsconfig `paths` may map: not relative, absolute, a URL or a built-in. */
export function isBareSpecifier(specifier: string): boolean {
  return (
    specifier !== "" &&
    !/^(?:\.{1,2}(?:\/|$)|\/)/.test(specifier) &&
    !/^[a-zA-Z][a-zA-Z\d+.-]*:/.test(specifier) &&
    !specifier.startsWith("#") &&
    !isNodeBuiltin(specifier)
  );
}

/** The substitutions of the `paths` pattern that best matches `specifier`, with `*` filled in. */
export function matchPaths(paths: TsconfigPaths["paths"], specifier: string): string[] {
  const exact = paths.find(({ pattern }) => !pattern.includes("*") && pattern === specifier);
  if (exact !== undefined) return exact.substitutions;
  let best: { prefix: string; star: string; substitutions: string[] } | undefined;
  for (const { pattern, substitutions } of paths) {
    const star = pattern.indexOf("*");
    if (star === -1) continue;
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (
      specifier.length >= prefix.length + suffix.length &&
      specifier.startsWith(prefix) &&
      specifier.endsWith(suffix) &&
      (best === undefined || prefix.length > best.prefix.length)
    ) {
      best = {
        prefix,
        star: specifier.slice(prefix.length, specifier.length - suffix.length),
        substitutions,
      };
    }
  }
  if (best === undefined) return [];
  const { star, substitutions } = best;
  return substitutions.map((substitution) => substitution.replace("*", star));
}

/**
 * The project file that `specifier`, imported by `parentFile`, names through the `paths` or
 * `baseUrl` of the tsconfig.json nearest to `parentFile`; undefined when it names none (a package,
 * a built-in, a relative import, or an importer inside node_modules).
 */
export function resolveTsconfigImport(specifier: string, parentFile: string): TsconfigResolution | undefined {
  if (!isBareSpecifier(specifier) || parentFile.includes(`${sep}node_modules${sep}`)) return undefined;
  const tsconfig = findTsconfig(parentFile);
  if (tsconfig === undefined) return undefined;
  const config = readTsconfigPaths(tsconfig);
  const clean = specifier.replace(/[?#].*$/, "");
  const candidates = matchPaths(config.paths, clean).map((path) => resolve(config.pathsBase, path));
  if (config.baseUrl !== undefined) candidates.push(resolve(config.baseUrl, clean));
  for (const candidate of candidates) {
    const file = resolveSourcePath(pathToFileURL(candidate).href, parentFile);
    if (file !== undefined) return { file, tsconfigFiles: config.files };
  }
  return undefined;
}
