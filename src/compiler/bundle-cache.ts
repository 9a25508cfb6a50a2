/**
 * The sandbox bundles of a development process, cached on disk by the content hash of all their
 * inputs, so `node --import stepwise-workflows/register` only rebuilds what changed. Per workflow file a
 * manifest records every file its bundle was built from with its sha256; on each load the files
 * are hashed again, and any difference (an edited import, an upgraded package, another compiler)
 * rebuilds the bundle. Bundles are named by the hash of their inputs and written atomically.
 *
 * The cache lives in `<project>/node_modules/.cache/stepwise` (or `.stepwise/cache` when the
 * project has no node_modules), or wherever `STEPWISE_CACHE_DIR` says.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { version as esbuildVersion } from "esbuild";
import { CompileWarning } from "./errors.ts";
import { packageOf } from "./packages.ts";
import { findProjectRoot } from "./project.ts";
import { buildSandboxBundle, sha256 } from "./sandbox-bundle.ts";

/** Bump when the cache layout or the meaning of a manifest changes. */
const CACHE_FORMAT = 2;
const PRUNE_AFTER_MS = 60 * 60 * 1000;

export interface CachedBundle {
  file: string;
  mapFile: string;
  workflowIds: string[];
  /** Whether this call built it (false: it came from the cache). */
  built: boolean;
  /** Every file the bundle was built from (bundler plugins watch them: an edit rebuilds the bundle). */
  inputs: string[];
  warnings: CompileWarning[];
}

interface Manifest {
  format: number;
  fingerprint: string;
  entry: string;
  bundle: string;
  inputs: Array<[string, string]>;
  workflowIds: string[];
  /** Warnings of the build, repeated on every load so they are not lost to the cache. */
  warnings: Array<{ file: string; line: number; column: number; message: string }>;
}

let fingerprintValue: string | undefined;

/** Identifies this compiler: its version, esbuild's, and the content of the compiler's own files. */
export function compilerFingerprint(): string {
  if (fingerprintValue === undefined) {
    const here = dirname(fileURLToPath(import.meta.url));
    const parts = [`format ${CACHE_FORMAT}`, `esbuild ${esbuildVersion}`];
    const pkg = join(here, "..", "..", "package.json");
    if (existsSync(pkg)) parts.push(readFileSync(pkg, "utf8"));
    const dirs = [here, join(here, "..", "workflow")];
    for (const dir of dirs) {
      for (const name of readdirSync(dir).sort()) {
        if ([".js", ".ts"].includes(extname(name)) && !name.endsWith(".d.ts"))
          parts.push(name, readFileSync(join(dir, name), "utf8"));
      }
    }
    fingerprintValue = sha256(parts.join("\0"));
  }
  return fingerprintValue;
}

export function defaultCacheDir(root: string): string {
  const fromEnv = process.env.STEPWISE_CACHE_DIR;
  if (fromEnv) return fromEnv;
  return existsSync(join(root, "node_modules"))
    ? join(root, "node_modules", ".cache", "stepwise")
    : join(root, ".stepwise", "cache");
}

async function writeAtomic(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}

async function fresh(manifest: Manifest, dir: string): Promise<boolean> {
  if (!existsSync(join(dir, `${manifest.bundle}.js`)) || !existsSync(join(dir, `${manifest.bundle}.js.map`)))
    return false;
  for (const [path, hash] of manifest.inputs) {
    try {
      if (sha256(await readFile(path)) !== hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Deletes bundles no manifest refers to, once they are an hour old. */
async function prune(dir: string): Promise<void> {
  const names = readdirSync(dir);
  const referenced = new Set<string>();
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    try {
      referenced.add((JSON.parse(await readFile(join(dir, name), "utf8")) as Manifest).bundle);
    } catch {
      // An unreadable manifest refers to nothing.
    }
  }
  for (const name of names) {
    const bundle = name.replace(/\.js(\.map)?$/, "");
    if (bundle === name || referenced.has(bundle)) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs > PRUNE_AFTER_MS) await rm(path, { force: true });
  }
}

/** The sandbox bundle of `entry`, from the cache when none of its inputs changed, else built now. */
export async function ensureSandboxBundle(
  entry: string,
  options: { cacheDir?: string } = {},
): Promise<CachedBundle> {
  // A workflow file of an npm package is cached with the project that installed it, never inside the package.
  const root = packageOf(entry)?.projectRoot ?? findProjectRoot(entry);
  const dir = join(options.cacheDir ?? defaultCacheDir(root), "sandbox");
  const fingerprint = compilerFingerprint();
  const manifestPath = join(dir, `${sha256(`${fingerprint}\0${entry}`).slice(0, 32)}.json`);
  const paths = (bundle: string) => ({
    file: join(dir, `${bundle}.js`),
    mapFile: join(dir, `${bundle}.js.map`),
  });

  const previous = await readFile(manifestPath, "utf8").then(
    (text) => JSON.parse(text) as Manifest,
    () => undefined,
  );
  if (
    previous?.format === CACHE_FORMAT &&
    previous.fingerprint === fingerprint &&
    (await fresh(previous, dir))
  ) {
    const warnings = (previous.warnings ?? []).map(
      (w) => new CompileWarning(w.file, w.line, w.column, w.message),
    );
    return {
      ...paths(previous.bundle),
      workflowIds: previous.workflowIds,
      built: false,
      inputs: previous.inputs.map(([path]) => path),
      warnings,
    };
  }

  await mkdir(dir, { recursive: true });
  const result = await buildSandboxBundle(entry, { outFile: join(dir, "bundle.js"), root });
  // The project's package.json decides ids too (`stepwise.renamed`): a change there rebuilds.
  const manifestFile = join(root, "package.json");
  const extra: Array<[string, string]> =
    existsSync(manifestFile) && !result.inputs.has(manifestFile)
      ? [[manifestFile, sha256(await readFile(manifestFile))]]
      : [];
  const inputs = [...result.inputs, ...extra].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const bundle = sha256(`${fingerprint}\0${JSON.stringify(inputs)}`).slice(0, 32);
  const { file, mapFile } = paths(bundle);
  await writeAtomic(mapFile, JSON.stringify({ ...result.map, file: `${bundle}.js` }));
  await writeAtomic(file, `${result.code}//# sourceMappingURL=${bundle}.js.map\n`);
  const manifest: Manifest = {
    format: CACHE_FORMAT,
    fingerprint,
    entry,
    bundle,
    inputs,
    workflowIds: result.workflowIds,
    warnings: result.warnings.map(({ file, line, column, message }) => ({ file, line, column, message })),
  };
  await writeAtomic(manifestPath, JSON.stringify(manifest));
  await prune(dir).catch(() => undefined);
  return {
    file,
    mapFile,
    workflowIds: result.workflowIds,
    built: true,
    inputs: inputs.map(([path]) => path),
    warnings: result.warnings,
  };
}
