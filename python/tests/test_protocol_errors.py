"""Every error code of docs/protocol.md's table is a typed exception carrying its details.

The table is read from the docs, so a code added there without a class here fails this test.
"""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT

from stepwise._protocol import (
    ERRORS_BY_CODE,
    HookTokenConflictError,
    InternalServerError,
    InvalidAnswerError,
    InvalidBodyError,
    ProtocolError,
    RunFinishedError,
    RunIdConflictError,
    SequenceConflictError,
    UnauthorizedError,
    WorldBusyError,
    WorldStorageError,
    WorldUnavailableError,
)
from stepwise._protocol.errors import error_from_answer
from stepwise.errors import StepwiseError


def _documented_codes() -> list[tuple[int, str]]:
    text = (REPO_ROOT / "docs" / "protocol.md").read_text()
    table = text[text.index("## Errors") : text.index("## Operations")]
    codes: list[tuple[int, str]] = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.match(r"^\d{3}", cells[0]):
            continue
        status = int(cells[0][:3])
        codes.extend((status, code) for code in re.findall(r"`([A-Z_]+)`", cells[1]))
    return codes


DOCUMENTED = _documented_codes()


def test_the_docs_table_was_read() -> None:
    assert len(DOCUMENTED) >= 27
    assert (409, "SEQUENCE_CONFLICT") in DOCUMENTED


@pytest.mark.parametrize(("status", "code"), DOCUMENTED, ids=[c for _, c in DOCUMENTED])
def test_each_documented_code_has_its_class(status: int, code: str) -> None:
    assert code in ERRORS_BY_CODE, f"{code} has no exception class"
    error = error_from_answer(status, {"error": {"code": code, "message": "m"}}, "http://h:1", "runs/get")
    assert type(error) is ERRORS_BY_CODE[code]
    assert isinstance(error, StepwiseError)
    assert error.code == code
    assert error.status == status
    assert error.retryable is (status == 503)


def test_details_become_attributes() -> None:
    def answer(status: int, code: str, details: dict[str, object]) -> ProtocolError:
        body = {"error": {"code": code, "message": "m", "details": details}}
        return error_from_answer(status, body, "http://h:1", "events/append")

    seq = answer(409, "SEQUENCE_CONFLICT", {"runId": "wrun_1", "expectedSeq": 3, "actualSeq": 5})
    assert isinstance(seq, SequenceConflictError)
    assert (seq.run_id, seq.expected_seq, seq.actual_seq) == ("wrun_1", 3, 5)
    finished = answer(409, "RUN_FINISHED", {"runId": "wrun_1", "status": "failed"})
    assert isinstance(finished, RunFinishedError) and finished.run_status == "failed"
    run_id = answer(409, "RUN_ID_CONFLICT", {"runId": "r", "workflowName": "a", "requestedWorkflowName": "b"})
    assert isinstance(run_id, RunIdConflictError)
    assert (run_id.workflow_name, run_id.requested_workflow_name) == ("a", "b")
    token = answer(409, "HOOK_TOKEN_CONFLICT", {"token": "t", "heldByRunId": "wrun_2"})
    assert isinstance(token, HookTokenConflictError) and token.held_by_run_id == "wrun_2"
    storage = answer(503, "WORLD_STORAGE", {"reason": "disk full"})
    assert isinstance(storage, WorldStorageError) and storage.reason == "disk full"
    assert isinstance(storage, WorldUnavailableError) and storage.retryable


def test_issues_unauthorized_and_unknown_answers() -> None:
    body = {
        "error": {
            "code": "INVALID_BODY",
            "message": "m",
            "issues": [{"path": ["events", 0, "type"], "message": "x"}],
        }
    }
    invalid = error_from_answer(400, body, "http://h:1", "events/append")
    assert isinstance(invalid, InvalidBodyError)
    assert invalid.issues[0].path == ("events", 0, "type")

    unauthorized = error_from_answer(
        401, {"error": {"code": "UNAUTHORIZED", "message": "m"}}, "http://h:1", "x"
    )
    assert isinstance(unauthorized, UnauthorizedError)
    assert unauthorized.message.startswith("The Stepwise server at http://h:1 refused the secret")

    # A 503 of a code this client does not know yet is still retryable; other unknown codes keep theirs.
    busy_later = error_from_answer(503, {"error": {"code": "WORLD_NEW_REASON", "message": "m"}}, "h", "x")
    assert type(busy_later) is WorldUnavailableError and busy_later.code == "WORLD_NEW_REASON"
    assert isinstance(
        error_from_answer(503, {"error": {"code": "WORLD_BUSY", "message": "m"}}, "h", "x"), WorldBusyError
    )
    other = error_from_answer(418, {"error": {"code": "TEAPOT", "message": "m"}}, "h", "x")
    assert type(other) is ProtocolError and other.code == "TEAPOT"
    assert isinstance(error_from_answer(502, "<html>", "h", "x"), InvalidAnswerError)
    assert isinstance(
        error_from_answer(500, {"error": {"code": "INTERNAL", "message": "m"}}, "h", "x"), InternalServerError
    )
