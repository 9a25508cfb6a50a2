"""Captures what a step attempt prints, per attempt, while still printing it (a tee): `print()`
and other writes to `sys.stdout` / `sys.stderr`, and `logging` records (src/runtime/console-capture.ts,
in Python). Each write is routed by a context variable that the executor sets for the attempt
(copied into the attempt's task and, for a plain function, its thread), so steps running at once
each get their own lines; output outside any step is only printed. A logging record is kept once,
with its level, and the handlers' own writes to the streams are not kept again. The stored form is
the TypeScript engine's (docs/payloads.md, `step:<stepId>:logs:<attempt>`): at most
`MAX_LOG_LINES` lines and `MAX_LOG_BYTES` bytes of UTF-8 text per attempt, with what was left out
counted in `truncated`. The workflow body's output goes the same way through `WorkflowOutput`
(its machine keeps it for the run's next append, `workflowLogs`), and a replay passing over code
whose output was stored already neither keeps nor prints it again.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO, cast

#: Lines kept per attempt.
MAX_LOG_LINES = 1000
#: Bytes of text (UTF-8) kept per attempt.
MAX_LOG_BYTES = 64 * 1024

#: The wall clock, taken before any workflow activation replaces `time.time_ns` with the run's.
_WALL_NS = time.time_ns


def wall_ms() -> int:
    """Epoch milliseconds by the wall clock, also inside a workflow activation."""
    return _WALL_NS() // 1_000_000


_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "ERROR": "error", "CRITICAL": "error"}


@dataclass(slots=True, frozen=True)
class LogLine:
    """One line: when it was printed (epoch ms), its level or stream, its text."""

    at: int
    level: str
    text: str


@dataclass(slots=True)
class CapturedLogs:
    """What an attempt printed, and (lines, bytes) left out past the bound."""

    lines: list[LogLine] = field(default_factory=list)
    truncated: tuple[int, int] | None = None

    def stored_value(self) -> dict[str, object]:
        """The value stored (as codec text): `{ lines: [{ at, level, text }], truncated? }`."""
        value: dict[str, object] = {
            "lines": [{"at": line.at, "level": line.level, "text": line.text} for line in self.lines]
        }
        if self.truncated is not None:
            value["truncated"] = {"lines": self.truncated[0], "bytes": self.truncated[1]}
        return value


class LogBuffer:
    """One attempt's output, bounded; direct writes are split into lines."""

    def __init__(self, now: Callable[[], int]) -> None:
        self._now = now
        self._lines: list[LogLine] = []
        self._bytes = 0
        self._dropped_lines = 0
        self._dropped_bytes = 0
        self._cut = False
        self._partial: dict[str, tuple[int, str]] = {}
        self._closed = False
        self._lock = threading.Lock()

    def add(self, level: str, text: str) -> None:
        """Adds one line (which may hold newlines). Ignored once taken."""
        with self._lock:
            self._add(level, text, self._now())

    def _add(self, level: str, text: str, at: int) -> None:
        if self._closed:
            return
        data = text.encode("utf-8", "replace")
        if len(self._lines) >= MAX_LOG_LINES or self._bytes >= MAX_LOG_BYTES:
            self._dropped_lines += 1
            self._dropped_bytes += len(data)
            return
        room = MAX_LOG_BYTES - self._bytes
        if len(data) > room:
            kept = data[:room].decode("utf-8", "ignore")
            kept_bytes = len(kept.encode("utf-8"))
            self._dropped_bytes += len(data) - kept_bytes
            self._cut = True
            self._lines.append(LogLine(at, level, kept))
            self._bytes += kept_bytes
            return
        self._lines.append(LogLine(at, level, text))
        self._bytes += len(data)

    def add_line(self, line: LogLine) -> None:
        """Adds a line kept earlier, with its own time (output given back after a failed append)."""
        with self._lock:
            self._add(line.level, line.text, line.at)

    def write(self, stream: str, piece: str) -> None:
        """Adds a piece of a direct write to `stream` (`stdout`, `stderr`): whole lines become lines."""
        with self._lock:
            if self._closed:
                return
            at = self._now()
            pending = self._partial.pop(stream, None)
            started = pending[0] if pending is not None else at
            text = piece if pending is None else pending[1] + piece
            *complete, rest = text.split("\n")
            for index, line in enumerate(complete):
                self._add(stream, line, started if index == 0 else at)
            if len(rest) > MAX_LOG_BYTES:
                # A line longer than the bound is not held back for its end (memory stays bounded).
                self._add(stream, rest, started if not complete else at)
            elif rest:
                self._partial[stream] = (started if not complete else at, rest)

    def take(self) -> CapturedLogs | None:
        """Ends the buffer: what it holds, or None when nothing was printed."""
        with self._lock:
            for stream, (at, text) in list(self._partial.items()):
                self._add(stream, text, at)
            self._partial.clear()
            self._closed = True
            if not self._lines and self._dropped_lines == 0:
                return None
            truncated = (
                (self._dropped_lines, self._dropped_bytes) if self._dropped_lines > 0 or self._cut else None
            )
            return CapturedLogs(self._lines, truncated)


class WorkflowOutput:
    """What the workflow body prints, for its run's machine: kept for the next append (and
    printed) when the run runs this code for the first time as far as its log knows, neither kept
    nor printed when a replay passes over code whose output was stored already (`silent`)."""

    __slots__ = ("_sink", "_silent")

    def __init__(self, sink: Callable[[], LogBuffer | None], silent: Callable[[], bool]) -> None:
        self._sink = sink
        self._silent = silent

    @property
    def silent(self) -> bool:
        """True while a replay passes over output that was stored already: drop it."""
        return self._silent()

    def add(self, level: str, text: str) -> None:
        """A logging record of the workflow body."""
        buffer = None if self._silent() else self._sink()
        if buffer is not None:
            buffer.add(level, text)

    def write(self, stream: str, piece: str) -> None:
        """A piece of a write to `stream` by the workflow body."""
        buffer = None if self._silent() else self._sink()
        if buffer is not None:
            buffer.write(stream, piece)


#: The output of the attempt (a `LogBuffer`) or the workflow body (a `WorkflowOutput`) running in
#: this context, if any.
current_output: contextvars.ContextVar[LogBuffer | WorkflowOutput | None] = contextvars.ContextVar(
    "stepwise_step_output", default=None
)
#: A logging record is being handled here: the handlers' writes are the record's, kept already.
_in_logging: contextvars.ContextVar[bool] = contextvars.ContextVar("stepwise_in_logging", default=False)


class _Tee:
    """A text stream that prints to `target` and keeps what a step in progress writes."""

    def __init__(self, target: TextIO, name: str) -> None:
        self._stepwise_target = target
        self._stepwise_name = name

    def write(self, text: str) -> int:
        output = current_output.get()
        if output is not None and not _in_logging.get():
            if isinstance(output, WorkflowOutput) and output.silent:
                return len(text)  # a replay's output was printed (and kept) the first time
            try:
                output.write(self._stepwise_name, str(text))
            except Exception:  # noqa: BLE001 - a line that cannot be kept is still printed
                pass
        return self._stepwise_target.write(text)

    def flush(self) -> None:
        self._stepwise_target.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stepwise_target, name)


_logging_patched = False


def _patch_logging() -> None:
    global _logging_patched
    if _logging_patched:
        return
    _logging_patched = True
    original = logging.Logger.callHandlers

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        output = current_output.get()
        if output is None or _in_logging.get():
            original(self, record)
            return
        if isinstance(output, WorkflowOutput) and output.silent:
            return  # a replay's record was handled (and kept) the first time
        try:
            text = record.getMessage()
            if record.exc_info:
                text = f"{text}\n{logging.Formatter().formatException(record.exc_info)}"
            output.add(_LEVELS.get(record.levelname, record.levelname.lower()), text)
        except Exception:  # noqa: BLE001 - a record that cannot be kept is still handled
            pass
        token = _in_logging.set(True)
        try:
            original(self, record)
        finally:
            _in_logging.reset(token)

    setattr(logging.Logger, "callHandlers", call_handlers)  # noqa: B010


def install_capture() -> None:
    """Makes `sys.stdout` and `sys.stderr` tees (again, if something replaced them since) and
    routes logging records; called before each attempt."""
    if not isinstance(sys.stdout, _Tee) and sys.stdout is not None:
        sys.stdout = cast(TextIO, _Tee(sys.stdout, "stdout"))
    if not isinstance(sys.stderr, _Tee) and sys.stderr is not None:
        sys.stderr = cast(TextIO, _Tee(sys.stderr, "stderr"))
    _patch_logging()
