"""The local engine for development: with neither STEPWISE_WORLD nor STEPWISE_HTTP_SECRET set,
the SDK runs `npx stepwise server` itself, on the embedded SQLite World in the project's
`.stepwise/` (the project is the nearest folder, from the current one up, with a
`pyproject.toml` or `package.json`), and says so once.

The server is started detached and recorded in `.stepwise/dev-server.json` (its URL, secret and
process id), so every Python process of the project — a worker, a script that starts runs, a
test — shares it, and it outlives them; a recorded server that no longer answers is replaced.
The CLI is the project's `node_modules/.bin/stepwise` (or STEPWISE_CLI, a path to the CLI's
JavaScript). Without Node.js, or without the npm package, the error says what to install.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .._base import StepwiseError

STATE_FILE = "dev-server.json"
MARKERS = ("pyproject.toml", "package.json")


class LocalEngineError(StepwiseError):
    """The local engine for development cannot be started: what to install or set is in the message."""

    code = "LOCAL_ENGINE"


@dataclass(frozen=True, slots=True)
class LocalServer:
    url: str
    secret: str
    pid: int
    #: Whether this process started it (and said so).
    started: bool


def project_root(start: Path | None = None) -> Path:
    """The nearest folder, from `start` (the current one) up, with a project marker; else `start`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in MARKERS):
            return folder
    return here


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 (loopback)
            return bool(response.status == 200)
    except Exception:
        return False


def _cli(root: Path) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise LocalEngineError(
            "No Stepwise server is configured and Node.js was not found, so the SDK cannot start the "
            "local engine. Either install Node.js 20 or later (https://nodejs.org) and the npm package "
            "in your project (`npm install stepwise-workflows`), or set STEPWISE_WORLD and "
            "STEPWISE_HTTP_SECRET to a running server (`npx stepwise server`)."
        )
    override = os.environ.get("STEPWISE_CLI", "").strip()
    if override:
        return [node, override]
    local = root / "node_modules" / "stepwise-workflows" / "dist" / "cli" / "index.js"
    if local.exists():
        return [node, str(local)]
    raise LocalEngineError(
        f"No Stepwise server is configured, and the npm package stepwise-workflows is not installed in "
        f"{root}, so the SDK cannot start the local engine. Run `npm install stepwise-workflows` there "
        "(Node.js 20 or later), or set STEPWISE_WORLD and STEPWISE_HTTP_SECRET to a running server "
        "(`npx stepwise server`)."
    )


def local_server(root: Path | None = None) -> LocalServer:
    """The project's local engine: the recorded one if it answers, else a new one (see the module)."""
    project = root or project_root()
    data = project / ".stepwise"
    state = data / STATE_FILE
    if state.exists():
        try:
            recorded = json.loads(state.read_text())
            url, secret, pid = str(recorded["url"]), str(recorded["secret"]), int(recorded["pid"])
            if _answers(url):
                return LocalServer(url, secret, pid, False)
        except (ValueError, KeyError, OSError):
            pass
    command = _cli(project)
    data.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    log_path = data / "dev-server.log"
    log_path.write_bytes(b"")
    log = log_path.open("ab")
    env = {**os.environ, "STEPWISE_HTTP_SECRET": secret, "STEPWISE_WORLD": "local", "STEPWISE_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [*command, "server", "--port", "0"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 30
    url = ""
    while time.monotonic() < deadline and not url:
        for line in log_path.read_text(errors="replace").splitlines():
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].split()[0]
                break
        if not url:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    if not url:
        process.kill()
        raise LocalEngineError(f"The local engine (`stepwise server`) did not start; its output is in {log_path}.")
    state.write_text(json.dumps({"url": url, "secret": secret, "pid": process.pid}))
    print(
        f"stepwise: no STEPWISE_WORLD is set, so a local engine runs for this project: {url} (SQLite in "
        f"{data}, process {process.pid}; it keeps running for the project's other processes — stop it "
        f"with `kill {process.pid}`). Set STEPWISE_WORLD and STEPWISE_HTTP_SECRET to use another server.",
        file=sys.stderr,
        flush=True,
    )
    return LocalServer(url, secret, process.pid, True)


def server_settings() -> tuple[str | None, str | None]:
    """The server to use: from the environment, or the local engine when nothing is configured."""
    if os.environ.get("STEPWISE_WORLD", "").strip() or os.environ.get("STEPWISE_HTTP_SECRET", "").strip():
        return None, None  # configured: the protocol client reads (and checks) the environment
    server = local_server()
    return server.url, server.secret
