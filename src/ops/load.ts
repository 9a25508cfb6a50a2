/**
 * Loads the user's workflow files into this process, the way `node --import stepwise-workflows/register`
 * would: the loader hooks are installed first, then each file is imported, which registers its
 * steps and its sandbox bundle. Used by the CLI's worker and start commands.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const SOURCE = /\.(?:ts|mts|js|mjs)$/;
const SKIP = /\.(?:d\.ts|test\.ts|spec\.ts)$/;

/** The default workflow files: everything under ./workflows (recursively), if it exists. */
export function discoverWorkflowFiles(cwd: string = process.cwd()): string[] {
  const root = join(cwd, "workflows");
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (SOURCE.test(name) && !SKIP.test(name)) found.push(path);
    }
  };
  walk(root);
  return found;
}

/** Installs the loader hooks and imports `files` (paths relative to the working directory). */
export async function loadWorkflowFiles(files: readonly string[]): Promise<void> {
  await import("../register/index.ts");
  for (const file of files) {
    const path = resolve(file);
    if (!existsSync(path)) throw new Error(`Cannot load ${file}: no such file (looked at ${path}).`);
    await import(pathToFileURL(path).href);
  }
}
