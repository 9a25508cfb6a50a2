/**
 * Where the local World keeps its data when nobody says: `.stepwise` at the project root — the
 * nearest directory, from the current one upward, holding a `package.json` or a `pyproject.toml` —
 * so that every process of a project, started from any of its folders (`inspect runs` from
 * `src/`, a script in `scripts/`), opens the same database instead of silently creating an empty
 * one where it stands. STEPWISE_DATA_DIR overrides it (a relative path is taken from the current
 * directory). Outside any project, `.stepwise` in the current directory, and the World says so
 * when it creates it there.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The files that mark a project's root. */
export const PROJECT_MARKERS: readonly string[] = ["package.json", "pyproject.toml"];

export interface DataDirChoice {
  /** The data directory, absolute. */
  dir: string;
  /** env: STEPWISE_DATA_DIR; project: `.stepwise` at `root`; cwd: no project root was found. */
  source: "env" | "project" | "cwd";
  /** The project root, when `source` is "project". */
  root?: string;
}

/** The nearest directory at or above `from` holding one of `PROJECT_MARKERS`, if any. */
export function findProjectRootFrom(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (PROJECT_MARKERS.some((marker) => existsSync(join(dir, marker)))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The local World's data directory for a process in `cwd` with environment `env`. */
export function resolveDataDir(
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): DataDirChoice {
  const fromEnv = env.STEPWISE_DATA_DIR?.trim();
  if (fromEnv) return { dir: resolve(cwd, fromEnv), source: "env" };
  const root = findProjectRootFrom(cwd);
  if (root !== undefined) return { dir: join(root, ".stepwise"), source: "project", root };
  return { dir: join(resolve(cwd), ".stepwise"), source: "cwd" };
}

/** What the World says when it creates its data directory outside any project. */
export function outsideProjectNotice(dir: string): string {
  return `[stepwise] No package.json or pyproject.toml in ${dirname(dir)} or above: the local World keeps its data in ${dir}. Run Stepwise from your project's folder (its data then lives in .stepwise at the project root), or set STEPWISE_DATA_DIR.`;
}
