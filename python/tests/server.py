"""A real Stepwise server for the Python tests: `node dist/cli/index.js server` in a temporary directory.

`start_server(data_dir)` starts `node <repo>/dist/cli/index.js server --port 0` (or a given port)
on the embedded SQLite World (`STEPWISE_WORLD=local`, `STEPWISE_DATA_DIR=<data_dir>/world`, the
process's cwd `data_dir`), with a random secret, and waits for its startup line ("stepwise server
listening on http://…") to learn its URL. The server's stderr goes to `<data_dir>/server-N.log`;
a server that exits or stays silent fails the test with that log. Nothing here skips: without
`dist/` (or without `node`) the test fails saying what to run.

`StepwiseServer.stop()` sends SIGTERM and waits (SIGKILL after 10 s); `kill()` sends SIGKILL at once
(a crash); `restart()` starts a new process on the same port and data, so clients that kept the
URL reach it again. The pytest fixtures built on this are in conftest.py.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: The repository's root (the server is started from its `dist/`).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The server's command-line entry, built by `npm run build`.
CLI = REPO_ROOT / "dist" / "cli" / "index.js"
#: How long a server may take to say it listens (s); generous: the machine may be loaded.
STARTUP_TIMEOUT_S = 60.0

_LISTENING = re.compile(r"stepwise server listening on (https?://\S+?) over")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "The Python tests start a real Stepwise server with Node.js, and `node` is not on PATH: "
            "install Node 20 or later."
        )
    if not CLI.exists():
        pytest.fail(
            f"{CLI} is missing: run `npm run build` in {REPO_ROOT} first (the tests start the server "
            "from dist/)."
        )
    return node


@dataclass
class StepwiseServer:
    """A running `stepwise server` process: its `url`, `secret`, data directory and process."""

    data_dir: Path
    secret: str
    port: int
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    starts: int = field(default=0)
    #: More environment for the server process (an encryption key, limits).
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """What a client process needs to reach this server: STEPWISE_WORLD and STEPWISE_HTTP_SECRET."""
        return {"STEPWISE_WORLD": self.url, "STEPWISE_HTTP_SECRET": self.secret}

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> StepwiseServer:
        """Starts the process on `port` (0: a free one, kept for restarts) and waits for its URL."""
        node = _node()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.log = self.data_dir / f"server-{self.starts}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEPWISE_")}
        env.update(
            STEPWISE_WORLD="local",
            STEPWISE_DATA_DIR=str(self.data_dir / "world"),
            STEPWISE_HTTP_SECRET=self.secret,
        )
        env.update(self.extra_env)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [node, str(CLI), "server", "--port", str(self.port), "--host", "127.0.0.1"],
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            text = self.log.read_text(errors="replace")
            match = _LISTENING.search(text)
            if match is not None:
                self.url = match.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                return self
            if self.process.poll() is not None:
                pytest.fail(
                    f"The Stepwise server exited with {self.process.returncode} before listening:\n{text}"
                )
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(
                    f"The Stepwise server did not say it listens within {STARTUP_TIMEOUT_S:.0f} s:\n{text}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` s; answers the exit code."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def kill(self) -> None:
        """SIGKILL: the server dies at once, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> StepwiseServer:
        """Stops the server (SIGTERM) and starts it again on the same port and data."""
        self.stop()
        return self.start()

    def read_log(self) -> str:
        """What the current process has written (stdout and stderr)."""
        return "" if self.log is None else self.log.read_text(errors="replace")


def start_server(
    data_dir: Path, *, port: int = 0, secret: str | None = None, env: dict[str, str] | None = None
) -> StepwiseServer:
    """Starts a server keeping its data in `data_dir` (see the module); stop it when done. `env`
    adds to its environment (STEPWISE_ENCRYPTION_KEY, say)."""
    server = StepwiseServer(data_dir=data_dir, secret=secret or secrets.token_hex(24), port=port, extra_env=dict(env or {}))
    return server.start()
