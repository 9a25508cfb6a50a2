"""Where a payload belongs in its run (docs/payloads.md §6).

An encrypted payload is bound to its run and its place through AES-GCM's additional data, so a
payload moved to another place (another step's result, another hook delivery, the run's output)
fails to open instead of being read as if it belonged there. A place is derived from what the
reader already knows (an event's type, a step's id, a stream's name), never stored with the
payload; these are the same strings the TypeScript engine uses (src/serde/places.ts).
"""

from __future__ import annotations

from typing import Final

RUN_INPUT: Final = "run:input"
RUN_OUTPUT: Final = "run:output"
RUN_ERROR: Final = "run:error"
#: The place of stored workflow code, in the pseudo-run `bundle_run_id(hash)`.
BUNDLE: Final = "bundle"


def step_args(step_id: str) -> str:
    """The place of a step's arguments."""
    return f"step:{step_id}:args"


def step_result(step_id: str) -> str:
    """The place of a step's result."""
    return f"step:{step_id}:result"


def step_error(step_id: str) -> str:
    """The place of a step's error (every attempt's error is stored at the same place)."""
    return f"step:{step_id}:error"


def hook_payload(hook_id: str, inbox_id: str) -> str:
    """The place of one delivery to a hook or webhook (its inbox item)."""
    return f"hook:{hook_id}:payload:{inbox_id}"


def webhook_response(hook_id: str) -> str:
    """The place of a webhook's recorded static response."""
    return f"hook:{hook_id}:response"


def event_payload(event_id: str, event_type: str) -> str:
    """The place of the payload of one event sent to the run (bound to the event and its type)."""
    return f"event:{event_id}:payload:{event_type}"


def stream_chunk(name: str) -> str:
    """The place of every chunk of a stream (their order within it is not bound)."""
    return f"stream:{name}"


def step_logs(step_id: str, attempt: int) -> str:
    """The place of what one attempt of a step printed (`logs` on its outcome event)."""
    return f"step:{step_id}:logs:{attempt}"


def workflow_logs(log_id: str) -> str:
    """The place of what the workflow body printed between two appends (`workflowLogs` on the
    first event of the second), by the id stored with it."""
    return f"run:logs:{log_id}"


def bundle_run_id(code_hash: str) -> str:
    """The pseudo-run stored workflow code belongs to."""
    return f"bundle:{code_hash}"


def describe_place(place: str) -> str:
    """A place in words, for messages ("the result of step step_01…")."""
    parts = place.split(":")
    kind = parts[0]
    ident = parts[1] if len(parts) > 1 else ""
    what = parts[2] if len(parts) > 2 else ""
    if kind == "run":
        return "the run's " + {"input": "arguments", "output": "return value"}.get(ident, "error")
    if kind == "step":
        part = {"args": "arguments", "result": "result"}.get(what, "error")
        return f"the {part} of step {ident}"
    if kind == "hook" and what == "payload":
        return f"a payload for hook {ident} (inbox item {parts[3] if len(parts) > 3 else ''})"
    if kind == "hook":
        return f"the recorded response of webhook {ident}"
    if kind == "event" and what == "payload":
        return f'the payload of event {ident} (type "{":".join(parts[3:])}")'
    if kind == "stream":
        return f'a chunk of stream "{place[len("stream:"):]}"'
    if kind == "bundle":
        return "the stored workflow code"
    return place
