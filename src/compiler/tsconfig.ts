/**
 * Reads what module resolution needs from a tsconfig.json: `compilerOptions.paths` and `baseUrl`,
 * following `extends` (a relative file, a package such as `@tsconfig/node20/tsconfig.json`, or an
 * array of them, later ones overriding earlier ones) the way TypeScript does. tsconfig files are
 * JSON with comments and trailing commas. Path options are absolute here: `baseUrl` relative to
 * the file that set it, `paths` relative to `baseUrl` when there is one and otherwise to the file
 * that set `paths`; `${configDir}` is the directory of the tsconfig.json being read.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** The module-resolution options of one tsconfig.json, with everything it extends applied. */
export interface TsconfigPaths {
  /** The tsconfig.json read, then every file it extends (each once). */
  files: string[];
  /** Absolute `baseUrl`, when set. */
  baseUrl?: string;
  /** `paths` patterns with their substitutions, in file order. */
  paths: Array<{ pattern: string; substitutions: string[] }>;
  /** The absolute directory that `paths` substitutions are relative to. */
  pathsBase: string;
}

interface RawOptions {
  baseUrl?: { value: string; dir: string };
  paths?: { value: Record<string, string[]>; dir: string };
}

/** Calls `other` for each stretch of `text` outside strings, and keeps strings as they are. */
function outsideStrings(text: string, other: (code: string) => string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '"') continue;
    out += other(text.slice(from, i));
    let end = i + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
    out += text.slice(i, end + 1);
    from = end + 1;
    i = end;
  }
  return out + other(text.slice(from));
}

/** JSON with `//` and `/* *\/` comments and trailing commas (what tsconfig files allow) to plain JSON. */
export function stripJsonComments(text: string): string {
  // Comments first (a quote inside one must not open a string), then the commas they may hide.
  let code = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      code += c;
      if (c === "\\") code += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      code += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      code += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 1;
      code += " ";
    } else {
      code += c;
    }
  }
  return outsideStrings(code, (part) => part.replace(/,(\s*)(?=[}\]])/g, "$1"));
}

function readJson(file: string): { extends?: unknown; compilerOptions?: Record<string, unknown> } {
  const text = readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  try {
    return JSON.parse(stripJsonComments(text)) as { extends?: unknown };
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); fix it, or remove it.`, {
      cause: error,
    });
  }
}

/** The file an `extends` entry in `from` names, as TypeScript finds it. */
function extendedFile(entry: string, from: string): string {
  const dir = dirname(from);
  if (entry.startsWith("./") || entry.startsWith("../") || isAbsolute(entry)) {
    const file = resolve(dir, entry);
    if (!existsSync(file) && !file.endsWith(".json") && existsSync(`${file}.json`)) return `${file}.json`;
    return file;
  }
  // A package: `pkg/file.json`, `pkg/file` (.json added) or `pkg` (its tsconfig.json).
  const require = createRequire(from);
  const candidates = entry.endsWith(".json") ? [entry] : [`${entry}.json`, join(entry, "tsconfig.json")];
  for (const candidate of candidates) {
    try {
      return require.resolve(candidate);
    } catch {
      // try the next form
    }
  }
  throw new Error(`${from} extends "${entry}", which cannot be found: install it, or fix the path.`);
}

/** The options of `file` over those of the files it extends; `ancestors` catches a cycle. */
function readOptions(file: string, ancestors: readonly string[], files: string[]): RawOptions {
  if (ancestors.includes(file))
    throw new Error(`${file} extends itself (through ${[...ancestors, file].join(" → ")}).`);
  files.push(file);
  const json = readJson(file);
  const bases = json.extends === undefined ? [] : Array.isArray(json.extends) ? json.extends : [json.extends];
  const merged: RawOptions = {};
  for (const base of bases) {
    if (typeof base !== "string") continue;
    Object.assign(merged, readOptions(extendedFile(base, file), [...ancestors, file], files));
  }
  const options = json.compilerOptions ?? {};
  const dir = dirname(file);
  if (typeof options.baseUrl === "string") merged.baseUrl = { value: options.baseUrl, dir };
  if (typeof options.paths === "object" && options.paths !== null)
    merged.paths = { value: options.paths as Record<string, string[]>, dir };
  return merged;
}

const cache = new Map<string, TsconfigPaths>();
// biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript's own placeholder, written as is in tsconfig files
const CONFIG_DIR = "${configDir}";

/**
 * The `paths` and `baseUrl` of `tsconfigFile` (cached for the process). Throws an error naming the
 * file when it, or a file it extends, cannot be read.
 */
export function readTsconfigPaths(tsconfigFile: string): TsconfigPaths {
  const cached = cache.get(tsconfigFile);
  if (cached !== undefined) return cached;
  const configDir = dirname(tsconfigFile);
  const files: string[] = [];
  const raw = readOptions(tsconfigFile, [], files);
  const expand = (value: string, dir: string): string =>
    resolve(dir, value.replaceAll(CONFIG_DIR, configDir));
  const baseUrl = raw.baseUrl === undefined ? undefined : expand(raw.baseUrl.value, raw.baseUrl.dir);
  const paths = Object.entries(raw.paths?.value ?? {}).map(([pattern, substitutions]) => ({
    pattern,
    substitutions: (Array.isArray(substitutions) ? substitutions : [])
      .filter((s): s is string => typeof s === "string")
      .map((s) => s.replaceAll(CONFIG_DIR, configDir)),
  }));
  const result: TsconfigPaths = {
    files: [...new Set(files)],
    paths,
    pathsBase: baseUrl ?? raw.paths?.dir ?? configDir,
    ...(baseUrl === undefined ? {} : { baseUrl }),
  };
  cache.set(tsconfigFile, result);
  return result;
}
