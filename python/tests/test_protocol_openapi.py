"""The client against docs/protocol.openapi.json: an operation the client lacks, a request field
it cannot send, or a record field it does not decode fails here.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from typing import cast

import pytest
from conftest import REPO_ROOT

import stepwise._protocol as protocol
from stepwise._protocol import ProtocolClient

SPEC = cast(dict[str, object], json.loads((REPO_ROOT / "docs" / "protocol.openapi.json").read_text()))
PATHS = cast(dict[str, dict[str, dict[str, object]]], SPEC["paths"])
SCHEMAS = cast(dict[str, dict[str, object]], cast(dict[str, object], SPEC["components"])["schemas"])


def snake(name: str) -> str:
    """camelCase → snake_case; Python keywords get a trailing underscore (`from` → `from_`)."""
    out = re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
    return out + "_" if out in ("from", "import", "class") else out


def _operations() -> list[tuple[str, str, dict[str, object]]]:
    found: list[tuple[str, str, dict[str, object]]] = []
    for path, methods in PATHS.items():
        for verb, operation in methods.items():
            found.append((path, verb, operation))
    return found


OPERATIONS = _operations()


def test_every_operation_has_a_method() -> None:
    assert len(OPERATIONS) >= 43
    missing = [
        cast(str, op["operationId"])
        for _, _, op in OPERATIONS
        if not callable(getattr(ProtocolClient, snake(cast(str, op["operationId"])), None))
    ]
    assert missing == [], f"ProtocolClient lacks {missing}"


@pytest.mark.parametrize(
    "operation",
    [op for _, verb, op in OPERATIONS if verb == "post"],
    ids=[cast(str, op["operationId"]) for _, verb, op in OPERATIONS if verb == "post"],
)
def test_each_method_takes_the_operations_fields(operation: dict[str, object]) -> None:
    method = getattr(ProtocolClient, snake(cast(str, operation["operationId"])))
    body = cast(dict[str, object], operation["requestBody"])
    schema = cast(
        dict[str, object], cast(dict[str, dict[str, object]], body["content"])["application/json"]["schema"]
    )
    if "$ref" in schema:
        schema = SCHEMAS[cast(str, schema["$ref"]).rsplit("/", 1)[1]]
    properties = cast(dict[str, object], schema.get("properties", {}))
    required = set(cast(list[str], schema.get("required", [])))
    parameters = dict(inspect.signature(method).parameters)
    parameters.pop("self")
    assert set(parameters) == {snake(p) for p in properties}
    for name in properties:
        has_default = parameters[snake(name)].default is not inspect.Parameter.empty
        assert has_default is (name not in required), f"{name}: required {name in required}"


RECORDS = [
    "Lease", "RunRecord", "EventRecord", "StepRecord", "HookRecord", "WaitRecord", "QueueMessage",
    "InboxItem", "StreamChunk", "StreamInfo", "BundleRecord", "AuditActor", "AuditEntry",
    "WorkerWorkflow", "WorkerRecord", "Notification", "CreateRunInput", "NewEvent", "NewMessage",
    "NewInboxItem", "ListRunsFilter", "ImportStream", "ImportMessage", "ImportRunInput", "PayloadSlot",
    "PayloadRewrite", "NewBundle", "NewAuditEntry", "AppendResult", "AppendedRun", "RunPage",
    "AuditPage", "CreatedRun",
]  # fmt: skip


@pytest.mark.parametrize("name", RECORDS)
def test_each_record_has_the_schemas_fields(name: str) -> None:
    record = getattr(protocol, name)
    fields = {f.name for f in dataclasses.fields(record)}
    properties = cast(dict[str, object], SCHEMAS[name]["properties"])
    assert fields == {re.sub(r"(?<!^)([A-Z])", r"_\1", p).lower() for p in properties}
