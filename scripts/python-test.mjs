#!/usr/bin/env node
/**
 * Runs the Python SDK's checks: `mypy --strict` on its code, then its pytest suite (against a real
 * Stepwise server the tests start from `dist/`). The SDK lives in `python/`; its environment is a
 * virtualenv at `python/.venv`, created here on first use and refreshed when `pyproject.toml`
 * changes, with the package installed editable and its test dependencies from PyPI. Arguments are
 * passed to pytest (`npm run test:python -- -k vectors`). A machine without Python 3.11 fails here,
 * loudly: the suite never skips.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pythonDir = join(root, "python");
const venv = join(pythonDir, ".venv");
const venvPython = join(venv, "bin", "python");
const stamp = join(venv, ".stepwise-installed");

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", cwd: pythonDir, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function fail(message) {
  console.error(`python tests: ${message}`);
  process.exit(1);
}

const systemPython = process.env.STEPWISE_PYTHON ?? "python3";
const probe = spawnSync(systemPython, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
  encoding: "utf8",
});
if (probe.error || probe.status !== 0) {
  fail(
    `${systemPython} was not found. Install Python 3.11 or later (Debian: apt-get install -y python3 python3-venv), or point STEPWISE_PYTHON at one.`,
  );
}
const [major, minor] = probe.stdout.trim().split(".").map(Number);
if (major < 3 || (major === 3 && minor < 11)) {
  fail(
    `${systemPython} is Python ${probe.stdout.trim()}; the SDK needs 3.11 or later (set STEPWISE_PYTHON to another).`,
  );
}

const wanted = createHash("sha256")
  .update(readFileSync(join(pythonDir, "pyproject.toml")))
  .digest("hex");
const installed = existsSync(stamp) ? readFileSync(stamp, "utf8") : "";
if (!existsSync(venvPython) || installed !== wanted) {
  console.log("== python: creating python/.venv and installing the SDK with its test dependencies");
  if (!existsSync(venvPython) && run(systemPython, ["-m", "venv", venv]) !== 0) {
    fail("could not create python/.venv (Debian: apt-get install -y python3-venv).");
  }
  if (
    run(venvPython, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[test]"]) !== 0
  ) {
    fail("pip could not install the SDK and its test dependencies (is PyPI reachable?).");
  }
  writeFileSync(stamp, wanted);
}

console.log("== python: mypy --strict");
if (run(venvPython, ["-m", "mypy"]) !== 0) process.exit(1);
console.log("== python: pytest");
process.exit(run(venvPython, ["-m", "pytest", ...process.argv.slice(2)]));
