/**
 * Maps stack traces of workflow code back to the user's files. Node (20) does not apply source
 * maps to `vm.Script` code, so frames from the sandbox point into the bundle; each bundle's map
 * is registered here when the bundle is (see `registerWorkflowBundleFile`), parsed on first use
 * with Node's own `SourceMap`, and `mapSandboxStack` rewrites the frames that point into a bundle.
 * The runtime calls it on errors that come out of the sandbox.
 */
import { readFileSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface Entry {
  /** Where the map is (or was, for an inlined one): its relative sources are resolved against it. */
  mapFile: string;
  /** The map's JSON, when it came with the bundle instead of from `mapFile`. */
  text?: string;
  map?: SourceMap | null;
}

const bundles = new Map<string, Entry>();

/** Records that frames in `bundleFile` are mapped by the source map in `mapFile` (read lazily). */
export function registerSandboxSourceMap(bundleFile: string, mapFile: string): void {
  bundles.set(bundleFile, { mapFile });
}

/**
 * Records the source map of `bundleFile` given as JSON text (bundles inlined into a module by a
 * bundler plugin, which has no map file beside it at run time). Relative sources are resolved
 * against `mapFile`, where the map was written when it was built. Parsed on first use.
 */
export function registerSandboxSourceMapText(bundleFile: string, mapFile: string, text: string): void {
  bundles.set(bundleFile, { mapFile, text });
}

function load(entry: Entry): SourceMap | null {
  if (entry.map === undefined) {
    try {
      const text = entry.text ?? readFileSync(entry.mapFile, "utf8");
      entry.map = new SourceMap(JSON.parse(text) as SourceMapPayload);
    } catch {
      entry.map = null;
    }
  }
  return entry.map;
}

function sourcePath(source: string, mapFile: string): string {
  if (source.startsWith("file:")) return fileURLToPath(source);
  return isAbsolute(source) ? source : resolve(dirname(mapFile), source);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `stack` with every frame that points into a registered sandbox bundle pointing at the original file. */
export function mapSandboxStack(stack: string): string {
  let out = stack;
  for (const [file, entry] of bundles) {
    if (!out.includes(file)) continue;
    const map = load(entry);
    if (map === null) continue;
    out = out.replace(
      new RegExp(`${escapeRegExp(file)}:(\\d+):(\\d+)`, "g"),
      (whole, line: string, column: string) => {
        const found = map.findEntry(Number(line) - 1, Number(column) - 1) as Partial<{
          originalSource: string;
          originalLine: number;
          originalColumn: number;
        }>;
        if (
          found.originalSource === undefined ||
          found.originalLine === undefined ||
          found.originalColumn === undefined
        ) {
          return whole;
        }
        return `${sourcePath(found.originalSource, entry.mapFile)}:${found.originalLine + 1}:${found.originalColumn + 1}`;
      },
    );
  }
  return out;
}

/** Maps the stacks of `error`, its `cause` chain and an AggregateError's errors, in place; returns `error`. */
export function mapSandboxErrorStacks<T>(error: T): T {
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null || seen.has(value)) return;
    seen.add(value);
    const record = value as { stack?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.stack === "string") {
      const mapped = mapSandboxStack(record.stack);
      if (mapped !== record.stack) {
        try {
          record.stack = mapped;
        } catch {
          // A frozen error keeps its stack.
        }
      }
    }
    visit(record.cause);
    if (Array.isArray(record.errors)) for (const inner of record.errors) visit(inner);
  };
  visit(error);
  return error;
}
