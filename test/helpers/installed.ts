/**
 * A project with Stepwise laid out the way `npm install <tarball>` lays it out, without the
 * registry: `node_modules/stepwise-workflows` holds a copy of exactly the files `npm pack` ships
 * (listed by `npm pack --dry-run`, so `files` in package.json decides), and each of its runtime
 * dependencies is linked from this repository's node_modules. The optional peer `pg` is left out,
 * as a SQLite user's install leaves it out. Being a copy, not a link to the checkout, Node resolves
 * the package's own imports from the project, where `pg` is missing. Loads `dist/`: build first.
 * (test/e2e/install.test.ts does the same with the real `npm pack` and `npm install`.)
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Project } from "./project.ts";
import { REPO } from "./project.ts";

/** The paths `npm pack` would put in the tarball, relative to the repository. */
export function packedFiles(): string[] {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: REPO,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return (pack?.files ?? []).map((file) => file.path);
}

/** A temp project with `files` and Stepwise installed without `pg`; `npx stepwise` is linked. */
export function makeInstalledProject(files: Record<string, string>): Project {
  const dir = mkdtempSync(join(tmpdir(), "stepwise-installed-"));
  const write = (path: string, content: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  write("package.json", `${JSON.stringify({ name: "app", type: "module" })}\n`);
  const pkgDir = join(dir, "node_modules", "stepwise-workflows");
  for (const path of packedFiles()) {
    mkdirSync(dirname(join(pkgDir, path)), { recursive: true });
    cpSync(join(REPO, path), join(pkgDir, path));
  }
  const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(manifest.dependencies)) {
    mkdirSync(dirname(join(dir, "node_modules", name)), { recursive: true });
    symlinkSync(join(REPO, "node_modules", name), join(dir, "node_modules", name), "dir");
  }
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  symlinkSync("../stepwise-workflows/dist/cli/index.js", join(dir, "node_modules", ".bin", "stepwise"));
  for (const [path, content] of Object.entries(files)) write(path, content);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
