/**
 * The ahead-of-time build (`npx stepwise build`): what `stepwise-workflows/register` does on the fly,
 * written to disk for production, so a deployed app runs with plain `node`. Starting from the
 * entry files, every project file they reach through relative imports, or through imports the
 * project's tsconfig maps (`paths`, `baseUrl`: `tsconfig-paths.ts`), is compiled in host mode to
 * `<outDir>/<path>.js` (with its source map), those imports rewritten to relative ones of the
 * emitted files, and every workflow file gets its sandbox bundle beside it (`<name>.sandbox.js` + map).
 * npm packages are not copied: the output imports them from node_modules as the sources did,
 * except packages that ship directives, which are emitted compiled under `<outDir>/node_modules`
 * (`build-packages.ts`).
 */
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { bareSpecifierPackage, copyPackage, findDurablePackages } from "./build-packages.ts";
import { compile } from "./compile.ts";
import type { CompileWarning } from "./errors.ts";
import { findProjectRoot } from "./project.ts";
import { isPathSpecifier, resolveSourcePath } from "./resolve.ts";
import { buildSandboxBundle } from "./sandbox-bundle.ts";
import { resolveTsconfigImport } from "./tsconfig-paths.ts";

export interface BuildProjectOptions {
  /** The project directory (paths in the output mirror paths under it); default: the nearest package.json from the working directory. */
  root?: string;
  /** Entry files (absolute, or relative to `root`): the app, the worker's workflow files, ... */
  entries: readonly string[];
  /** Where to write (absolute, or relative to `root`); default `dist`. */
  outDir?: string;
}

export interface BuildProjectResult {
  root: string;
  outDir: string;
  /** Emitted modules, by source file. */
  modules: Array<{ source: string; output: string }>;
  /** Emitted sandbox bundles, by workflow file. */
  bundles: Array<{ source: string; output: string; workflowIds: string[] }>;
  stepIds: string[];
  warnings: CompileWarning[];
}

const CODE = new Set([".ts", ".mts", ".tsx", ".js", ".mjs", ".jsx"]);
const OUT_EXTENSION: Record<string, string> = { ".ts": ".js", ".tsx": ".js", ".jsx": ".js", ".mts": ".mjs" };

function outputPath(root: string, outDir: string, file: string): string {
  const ext = extname(file);
  const rel = relative(root, file);
  return join(
    outDir,
    OUT_EXTENSION[ext] === undefined ? rel : rel.slice(0, -ext.length) + OUT_EXTENSION[ext],
  );
}

function specifierBetween(from: string, to: string): string {
  const rel = relative(dirname(from), to).split(sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

async function writeWithMap(file: string, code: string, map: object): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.map`, JSON.stringify({ ...map, file: basename(file) }));
  await writeFile(
    file,
    `${code}${code.endsWith("\n") ? "" : "\n"}//# sourceMappingURL=${basename(file)}.map\n`,
  );
}

/** Makes `.js` files under `outDir` ES modules when the package around it does not already say so. */
async function ensureModuleScope(outDir: string): Promise<void> {
  const pkg = join(findProjectRoot(join(outDir, "index.js")), "package.json");
  const type = existsSync(pkg)
    ? (JSON.parse(readFileSync(pkg, "utf8")) as { type?: unknown }).type
    : undefined;
  if (type !== "module")
    await writeFile(join(outDir, "package.json"), `${JSON.stringify({ type: "module" }, null, 2)}\n`);
}

export async function buildProject(options: BuildProjectOptions): Promise<BuildProjectResult> {
  const root = resolve(options.root ?? findProjectRoot(join(process.cwd(), "package.json")));
  const outDir = resolve(root, options.outDir ?? "dist");
  if (outDir === root) throw new Error(`The build's outDir cannot be the project root (${root}).`);
  const result: BuildProjectResult = { root, outDir, modules: [], bundles: [], stepIds: [], warnings: [] };
  const queue = options.entries.map((entry) => (isAbsolute(entry) ? entry : resolve(root, entry)));
  const seen = new Set<string>();
  const packageImports: Array<{ name: string; from: string }> = [];

  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file)) throw new Error(`Cannot build ${file}: no such file.`);
    if (relative(root, file).startsWith("..")) {
      throw new Error(
        `Cannot build ${file}: it is outside the project root ${root}; build from a root that contains every file the app imports.`,
      );
    }
    const output = outputPath(root, outDir, file);
    if (!CODE.has(extname(file))) {
      await mkdir(dirname(output), { recursive: true });
      await copyFile(file, output);
      continue;
    }
    const rewriteSpecifier = (specifier: string): string | undefined => {
      const target = isPathSpecifier(specifier)
        ? resolveSourcePath(specifier, file)
        : resolveTsconfigImport(specifier, file)?.file;
      if (target === undefined) {
        const name = bareSpecifierPackage(specifier);
        if (name !== undefined) packageImports.push({ name, from: file });
        return undefined;
      }
      queue.push(target);
      return specifierBetween(output, outputPath(root, outDir, target));
    };
    const bundleFile = `${output.slice(0, -extname(output).length)}.sandbox.js`;
    const compiled = await compile(await readFile(file, "utf8"), {
      filename: file,
      mode: "host",
      sandboxBundle: `./${basename(bundleFile)}`,
      rewriteSpecifier,
      outFile: output,
    });
    result.warnings.push(...compiled.warnings);
    result.stepIds.push(...compiled.steps.map((s) => s.id));
    await writeWithMap(output, compiled.code, compiled.map);
    result.modules.push({ source: file, output });
    if (compiled.workflows.length > 0) {
      const bundle = await buildSandboxBundle(file, { outFile: bundleFile });
      result.warnings.push(...bundle.warnings);
      await writeWithMap(bundleFile, bundle.code, bundle.map);
      result.bundles.push({ source: file, output: bundleFile, workflowIds: bundle.workflowIds });
    }
  }
  await emitDurablePackages(root, outDir, packageImports, result);
  await ensureModuleScope(outDir);
  return result;
}

/**
 * Emits the packages with directives that the project reaches (and the packages that lead to them)
 * under `<outDir>/node_modules`: copied as they are, then each file with a directive compiled in
 * host mode over its copy, with its sandbox bundle beside it.
 */
async function emitDurablePackages(
  root: string,
  outDir: string,
  imports: ReadonlyArray<{ name: string; from: string }>,
  result: BuildProjectResult,
): Promise<void> {
  for (const pkg of await findDurablePackages(root, imports)) {
    const dest = join(outDir, pkg.target);
    await copyPackage(pkg.dir, dest);
    for (const file of pkg.files) {
      // CommonJS files with a directive were refused when the packages were found.
      const source = await readFile(file, "utf8");
      const output = join(dest, relative(pkg.dir, file));
      const bundleFile = `${output.slice(0, -extname(output).length)}.sandbox.js`;
      const compiled = await compile(source, {
        filename: file,
        mode: "host",
        sandboxBundle: `./${basename(bundleFile)}`,
        outFile: output,
      });
      result.warnings.push(...compiled.warnings);
      if (!compiled.changed) continue;
      result.stepIds.push(...compiled.steps.map((s) => s.id));
      await writeWithMap(output, compiled.code, compiled.map);
      result.modules.push({ source: file, output });
      if (compiled.workflows.length > 0) {
        const bundle = await buildSandboxBundle(file, { outFile: bundleFile });
        result.warnings.push(...bundle.warnings);
        await writeWithMap(bundleFile, bundle.code, bundle.map);
        result.bundles.push({ source: file, output: bundleFile, workflowIds: bundle.workflowIds });
      }
    }
  }
}
