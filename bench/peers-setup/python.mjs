// The Python side of the bench: two virtualenvs under bench/peers/ (git-ignored; never dependencies
// of the package), made on first use with the system Python (STEPWISE_PYTHON, else python3; 3.11
// or later):
// - py-stepwise: this checkout's Python SDK, `pip install -e ./python` (editable, so the bench
//   measures the code in the tree); redone when python/pyproject.toml changes;
// - py-dbos: DBOS Transact for Python, pinned (PYTHON_PEERS), from PyPI.
// Every failure is returned, never thrown: the bench reports it loudly and runs the rest.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const PYTHON_PEERS = { dbos: "3.4.0" };

const root = fileURLToPath(new URL("../../", import.meta.url));
const peersDir = join(root, "bench/peers");

const tail = (error) =>
  `${error.message}\n${String(error.stderr ?? "")}${String(error.stdout ?? "")}`
    .trim()
    .split("\n")
    .slice(-15)
    .join("\n");

function systemPython() {
  const python = process.env.STEPWISE_PYTHON ?? "python3";
  const probe = spawnSync(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
    encoding: "utf8",
  });
  if (probe.error || probe.status !== 0)
    throw new Error(`${python} was not found (set STEPWISE_PYTHON to a Python 3.11+).`);
  const [major, minor] = probe.stdout.trim().split(".").map(Number);
  if (major < 3 || (major === 3 && minor < 11))
    throw new Error(
      `${python} is Python ${probe.stdout.trim()}; the SDK needs 3.11 or later (set STEPWISE_PYTHON).`,
    );
  return python;
}

/** A virtualenv at bench/peers/<name> with `packages` installed, redone when `stamp` changes. */
function venv(name, packages, stamp, say) {
  const dir = join(peersDir, name);
  const python = join(dir, "bin/python");
  const stampFile = join(dir, ".bench-installed");
  if (existsSync(python) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) return python;
  say(`installing into bench/peers/${name}: pip install ${packages.join(" ")}`);
  rmSync(dir, { recursive: true, force: true });
  execFileSync(systemPython(), ["-m", "venv", dir], { stdio: "pipe", timeout: 120_000 });
  execFileSync(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...packages], {
    cwd: root,
    stdio: "pipe",
    timeout: 600_000,
  });
  writeFileSync(stampFile, stamp);
  return python;
}

/** { stepwise: { ok, python } | { ok: false, error }, dbos: { ok, python, version } | … } */
export function ensurePythonPeers(say = () => {}) {
  const out = {};
  try {
    const stamp = createHash("sha256")
      .update(readFileSync(join(root, "python/pyproject.toml")))
      .digest("hex");
    out.stepwise = { ok: true, python: venv("py-stepwise", ["-e", "./python"], stamp, say) };
  } catch (error) {
    out.stepwise = { ok: false, error: `the Python SDK could not be installed: ${tail(error)}` };
  }
  try {
    const spec = `dbos==${PYTHON_PEERS.dbos}`;
    out.dbos = { ok: true, python: venv("py-dbos", [spec], spec, say), version: PYTHON_PEERS.dbos };
  } catch (error) {
    out.dbos = {
      ok: false,
      error: `DBOS for Python (dbos==${PYTHON_PEERS.dbos}) could not be installed: ${tail(error)}`,
    };
  }
  return out;
}
