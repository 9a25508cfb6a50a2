"""Starting runs and acting on them from Python: `Client`, `Run`, and the process's default client.

Runs are created over the worker protocol (`runs/create`), their arguments sealed here with the
payload format (so a Python caller passes any value the format carries, and an encryption key set
in this process encrypts them); everything that acts on a run once it exists — cancel, pause,
resume, restart, events, hook payloads, waiting for the outcome — goes through the server's run
API (docs/http.md), the same code TypeScript callers reach, so both languages get exactly the same
semantics. Outcomes are read from the run's record and decoded here, keeping their Python types.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from .._base import StepwiseError
from .._engine.codec import BoundPayloads, SerdeValues
from .._engine.ids import CROCKFORD, encode_time
from .._engine.tracing import start_spans
import httpx

from .._protocol import CreateRunInput, ProtocolClient, RunNotFoundError, ServerUnreachableError
from .._protocol.errors import error_from_answer
from .._protocol.records import RunRecord
from .._serde import PayloadCodec, places, stringify
from .registry import get_workflow, workflows

SPEC_VERSION = 5
#: A full workflow id, taken as it is (the TypeScript SDK's rule, src/client/workflow-name.ts).
FULL_ID = re.compile(r"^workflow//.+//[^/]+$")


class RunFailedError(StepwiseError):
    """The run failed: `cause` is the error it failed with (`run.return_value()` raises this)."""

    code = "RUN_FAILED"


class RunCancelledError(StepwiseError):
    """The run was cancelled before it returned."""

    code = "RUN_CANCELLED"


class WorkflowNotFoundError(StepwiseError):
    """No workflow of that name is known here."""

    code = "WORKFLOW_NOT_FOUND"


def new_run_id() -> str:
    """A fresh `wrun_…` id: 48 bits of time and 80 random bits, ULID-shaped like TypeScript's."""
    tail = "".join(CROCKFORD[b % 32] for b in secrets.token_bytes(16))
    return f"wrun_{encode_time(time.time_ns() // 1_000_000)}{tail}"


def workflow_name_of(workflow: object) -> tuple[str, bool]:
    """The id runs record for `workflow` (a registered function or class, a short name or an id),
    and whether this process has its code (then runs are pinned to this code's version)."""
    if isinstance(workflow, str):
        definition = get_workflow(workflow)
        if definition is not None:
            return definition.id, True
        if FULL_ID.match(workflow):
            return workflow, False
        if workflow.startswith("workflow//"):
            raise WorkflowNotFoundError(
                f'"{workflow}" is not a workflow id: a full id is workflow//<module or file>//<function or '
                "class name>, e.g. workflow//app.workflows.report//report. Give one, or the plain name."
            )
        return workflow, False  # a plain name this process does not have: resolved by the server
    workflow_id = getattr(workflow, "__stepwise_workflow__", None)
    if isinstance(workflow_id, str):
        return workflow_id, True
    raise WorkflowNotFoundError(
        f"{workflow!r} is not a workflow: decorate it with @wf.workflow (or subclass "
        "WorkflowEntrypoint), or pass the workflow's name."
    )


class Client:
    """A connection to a Stepwise server for starting runs and acting on them.

    `Client()` reads STEPWISE_WORLD and STEPWISE_HTTP_SECRET (see `default_client()` for the
    local-development server started when neither is set); `Client(url, secret)` names them.
    """

    def __init__(self, url: str | None = None, secret: str | None = None, *, payloads: PayloadCodec | None = None) -> None:
        self.protocol = ProtocolClient(url, secret)
        self.payloads = payloads or PayloadCodec.from_env()
        self._values = SerdeValues()
        base = self.protocol.server.base
        self.api_base = base[: base.rindex("/protocol/")]

    async def aclose(self) -> None:
        await self.protocol.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- starting -----------------------------------------------------------------------------

    async def start(self, workflow: object, args: Sequence[object] = (), *, id: str | None = None) -> Run:
        """Starts a run of `workflow` with the argument list `args` (keyword arguments as one
        trailing dict); `id` makes it idempotent: a run already under that id is returned."""
        [run] = await self.start_many(workflow, [(list(args), id)])
        return run

    async def start_many(self, workflow: object, items: Sequence[tuple[Sequence[object], str | None]]) -> list[Run]:
        """Starts one run per `(args, id)` item, in one transaction, all or nothing."""
        name, ours = workflow_name_of(workflow)
        if not ours and not FULL_ID.match(name):
            name = await self.resolve(name)
        inputs = []
        encrypted = self.payloads.key_id is not None
        run_ids = [run_id or new_run_id() for _, run_id in items]
        # Each run records the trace it starts in (OpenTelemetry, when installed: _engine/tracing.py).
        with start_spans(name, run_ids) as contexts:
            for (args, _), run_id, (traceparent, tracestate) in zip(items, run_ids, contexts, strict=True):
                text = stringify(list(args), root="arguments")
                sealed = BoundPayloads(self.payloads, run_id, encrypted, SPEC_VERSION).seal(
                    places.RUN_INPUT, text, f"The arguments of workflow {name}"
                )
                inputs.append(
                    CreateRunInput(
                        run_id=run_id,
                        workflow_name=name,
                        spec_version=SPEC_VERSION,
                        seed=secrets.token_hex(16),
                        encrypted=encrypted,
                        input=sealed,
                        # Not pinned here: the worker that starts it pins it to its code version. A
                        # process that starts runs may load other modules than the workers do (a web
                        # app imports one workflow), so its own hash would name code no worker has.
                        bundle_hash=None,
                        traceparent=traceparent,
                        tracestate=tracestate,
                    )
                )
            created = await self.protocol.runs_create_many(inputs)
        return [Run(self, result.run.run_id) for result in created]

    async def resolve(self, name: str) -> str:
        """The full id of the workflow a plain name means, among the workflows live workers
        registered with the server and those of stored runs (the TypeScript SDK's rule): exactly
        one id must end in `//<name>`."""
        known = set(await self.protocol.workflows_list()) | set(await self.protocol.runs_workflow_names())
        known |= {definition.id for definition in workflows().values()}
        matches = sorted(ident for ident in known if ident == name or ident.endswith(f"//{name}"))
        if len(matches) == 1:
            return matches[0]
        if not matches:
            listed = ", ".join(sorted(known)) or "none yet (start its worker first, or give the full id)"
            raise WorkflowNotFoundError(
                f'No workflow named "{name}" is known: not in this process, not registered by a live '
                f"worker, not among the stored runs. Known: {listed}."
            )
        raise WorkflowNotFoundError(
            f'The name "{name}" matches several workflows ({", ".join(matches)}): give the full id.'
        )

    def get_run(self, run_id: str) -> Run:
        """A handle on an existing run (reading from it raises RunNotFoundError if there is none)."""
        return Run(self, run_id)

    # ---- the run API ---------------------------------------------------------------------------

    async def api(self, method: str, path: str, body: object | None = None) -> tuple[int, dict[str, Any]]:
        """Calls the server's run API; a refusal raises the protocol's typed error for its code."""
        headers = {"authorization": f"Bearer {self.protocol.server.secret}"}
        try:
            response = await self.protocol.http.request(
                method, f"{self.api_base}{path}", headers=headers, json=body, timeout=70.0
            )
        except httpx.HTTPError as error:
            raise ServerUnreachableError(
                f"The Stepwise server at {self.protocol.server.url} could not be reached ({error}). "
                "Check that it runs and that STEPWISE_WORLD is its address.",
                url=self.protocol.server.url,
                sent=True,
            ) from error
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 400:
            raise error_from_answer(response.status_code, answer, self.protocol.server.url, f"{method} {path}")
        return response.status_code, answer if isinstance(answer, dict) else {}

    async def resume_hook(self, token: str, payload: object) -> None:
        """Delivers `payload` (plain JSON data) to the hook listening on `token`."""
        from urllib.parse import quote

        await self.api("POST", f"/hooks/{quote(token, safe='')}", {"payload": payload})


class Run:
    """A handle on a run: its id, status, outcome, and the controls that act on it."""

    def __init__(self, client: Client, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    def __repr__(self) -> str:
        return f"Run({self.run_id!r})"

    async def record(self) -> RunRecord:
        return await self.client.protocol.runs_get(self.run_id)

    async def status(self) -> str:
        """pending, running, pausing, paused, completed, failed or cancelled."""
        return (await self.record()).status

    async def wait(self, timeout: float | None = None) -> RunRecord:
        """Waits until the run has ended (at most `timeout` seconds) and returns its record."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise TimeoutError(f"run {self.run_id} did not end within {timeout} s")
            wait_ms = 30_000 if left is None else max(1, min(30_000, int(left * 1000)))
            status, _ = await self.client.api("GET", f"/runs/{self.run_id}/result?wait={wait_ms}")
            if status == 200:
                return await self.record()

    async def return_value(self, timeout: float | None = None) -> object:
        """The workflow's return value, waiting for it; RunFailedError or RunCancelledError otherwise."""
        record = await self.wait(timeout)
        payloads = BoundPayloads(self.client.payloads, record.run_id, record.encrypted, record.spec_version)
        values = SerdeValues()
        if record.status == "completed":
            return values.parse(payloads.open(places.RUN_OUTPUT, record.output)) if record.output else None
        if record.status == "cancelled":
            raise RunCancelledError(f"run {self.run_id} ({record.workflow_name}) was cancelled before it returned.")
        cause: BaseException = RuntimeError("unknown failure")
        if record.error is not None:
            cause = values.error_from(payloads.open(places.RUN_ERROR, record.error))
        error = RunFailedError(f"run {self.run_id} ({record.workflow_name}) failed: {type(cause).__name__}: {cause}")
        raise error from cause

    async def cancel(self) -> str:
        _, answer = await self.client.api("POST", f"/runs/{self.run_id}/cancel")
        return str(answer.get("status", ""))

    async def pause(self, *, abort_steps: bool = False) -> str:
        _, answer = await self.client.api("POST", f"/runs/{self.run_id}/pause", {"abortSteps": True} if abort_steps else None)
        return str(answer.get("status", ""))

    async def resume(self) -> str:
        _, answer = await self.client.api("POST", f"/runs/{self.run_id}/resume")
        return str(answer.get("status", ""))

    async def restart(self, *, from_step: str | None = None, occurrence: int = 1) -> dict[str, Any]:
        body = None if from_step is None else {"from": {"step": from_step, "occurrence": occurrence}}
        _, answer = await self.client.api("POST", f"/runs/{self.run_id}/restart", body)
        return answer

    def get_readable(self, name: str | None = None, *, start_index: int = 0) -> AsyncIterator[object]:
        """The values of the run's stream `name` (the default one), from `start_index` (negative:
        from the tail), then live until it is closed or the run has ended."""
        return self._readable(name or "default", start_index)

    async def _readable(self, name: str, start: int) -> AsyncIterator[object]:
        from .streams import read_stream

        record = await self.record()
        payloads = BoundPayloads(self.client.payloads, record.run_id, record.encrypted, record.spec_version)
        async for value in read_stream(self.client.protocol, payloads, self.run_id, name, start):
            yield value

    async def send_event(self, type: str, payload: object = None) -> dict[str, Any]:
        _, answer = await self.client.api("POST", f"/runs/{self.run_id}/events", {"type": type, "payload": payload})
        return answer


_default: Client | None = None


def default_client() -> Client:
    """The process's client, from STEPWISE_WORLD and STEPWISE_HTTP_SECRET (made on first use);
    with neither set, the project's local engine (`devserver.py`)."""
    global _default
    if _default is None:
        from .devserver import server_settings

        url, secret = server_settings()
        _default = Client(url, secret)
    return _default


def set_default_client(client: Client | None) -> None:
    """Replaces the process's client (tests, embedding)."""
    global _default
    _default = client


__all__ = [
    "Client",
    "Run",
    "RunCancelledError",
    "RunFailedError",
    "WorkflowNotFoundError",
    "default_client",
    "new_run_id",
    "set_default_client",
    "RunNotFoundError",
]
