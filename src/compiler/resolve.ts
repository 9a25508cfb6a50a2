/**
 * Resolves relative imports the way TypeScript projects write them, for files Node cannot find
 * as written: `./x.js` that is really `./x.ts` (or `.mjs` → `.mts`), `./x` without an extension,
 * and `./dir` meaning `./dir/index.ts`. Used by the loader hooks and by the ahead-of-time build.
 */
import { statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SOURCE_EXTENSIONS = [".ts", ".mts", ".tsx", ".js", ".mjs", ".jsx"];
const JS_TO_TS: Record<string, string[]> = {
  ".js": [".ts", ".tsx"],
  ".mjs": [".mts"],
  ".cjs": [".cts"],
  ".jsx": [".tsx"],
};

/** True for `./x`, `../x`, `/x` and `file:` specifiers. */
export function isPathSpecifier(specifier: string): boolean {
  return /^(?:\.{1,2}(?:\/|$)|\/|file:)/.test(specifier);
}

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The file a path specifier written in `parentFile` refers to, or undefined when there is none. */
export function resolveSourcePath(specifier: string, parentFile: string): string | undefined {
  if (!isPathSpecifier(specifier)) return undefined;
  const clean = specifier.replace(/[?#].*$/, "");
  const base = clean.startsWith("file:") ? fileURLToPath(clean) : resolve(dirname(parentFile), clean);
  const candidates = [base];
  const ext = extname(base);
  for (const alternative of JS_TO_TS[ext] ?? []) candidates.push(base.slice(0, -ext.length) + alternative);
  if (!SOURCE_EXTENSIONS.includes(ext)) {
    for (const e of SOURCE_EXTENSIONS) candidates.push(base + e);
    for (const e of SOURCE_EXTENSIONS) candidates.push(join(base, `index${e}`));
  }
  return candidates.find(isFile);
}
