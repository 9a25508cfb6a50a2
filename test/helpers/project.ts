/**
 * Throwaway projects for end-to-end tests: a temp directory with a package.json
 * (`"type": "module"`), the given files, and `node_modules/stepwise-workflows` linked to this repository, so
 * the project imports Stepwise the way an application does. `runNode` spawns a real Node process
 * in it (the e2e tests need `npm run build` first: they load `dist/`).
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const REGISTER = join(REPO, "dist", "register", "index.js");

export interface Project {
  dir: string;
  write(path: string, content: string): void;
  remove(): void;
}

export function makeProject(files: Record<string, string>): Project {
  const dir = mkdtempSync(join(tmpdir(), "stepwise-compiler-"));
  const write = (path: string, content: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  write("package.json", `${JSON.stringify({ name: "app", type: "module" })}\n`);
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  symlinkSync(REPO, join(dir, "node_modules", "stepwise-workflows"), "dir");
  // What npm does when it installs the package: link its bin, so `npx stepwise` works.
  symlinkSync("../stepwise-workflows/dist/cli/index.js", join(dir, "node_modules", ".bin", "stepwise"));
  for (const [path, content] of Object.entries(files)) write(path, content);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface NodeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNode(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<NodeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, STEPWISE_WORLD: "memory", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a Node process in the project and hands it back (for tests that kill it). */
export function spawnNode(args: readonly string[], cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output, exited };
}

/** Runs `npx stepwise <args>` in the project, as a user would. */
export function npxStepwise(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<NodeResult> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["--no", "--", "stepwise", ...args],
      { cwd, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
