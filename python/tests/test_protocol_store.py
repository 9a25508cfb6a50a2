"""Stored code, payload rewrites, notices and the audit trail through the protocol, against a real server."""

from __future__ import annotations

import os
import socket

import pytest
from helpers import create_run, new_id
from payloads import payload

from stepwise._protocol import (
    AuditActor,
    NewAuditEntry,
    NewBundle,
    NewEvent,
    NotFoundError,
    PayloadRewrite,
    PayloadSlot,
    ProtocolClient,
)


async def test_bundles_are_stored_once_and_rewritten_by_compare_and_swap(
    protocol_client: ProtocolClient,
) -> None:
    client = protocol_client
    digest = new_id("sha")
    code = payload("def run(): ...")
    await client.bundles_put(NewBundle(digest, "app/workflows.py", ["workflow//app//order"], code))
    await client.bundles_put(NewBundle(digest, "app/workflows.py", ["workflow//app//order"], code))
    bundle = await client.bundles_get(digest)
    assert (bundle.filename, bundle.workflow_ids, bundle.code) == (
        "app/workflows.py",
        ("workflow//app//order",),
        code,
    )
    assert digest in await client.bundles_hashes()
    new_code = payload("def run(): return 1")
    assert await client.bundles_rewrite(digest, code, new_code) is True
    assert await client.bundles_rewrite(digest, code, new_code) is False  # the bytes moved on
    assert (await client.bundles_get(digest)).code == new_code
    with pytest.raises(NotFoundError):
        await client.bundles_get(new_id("sha"))


async def test_payloads_rewrite_swaps_only_expected_bytes(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    appended = await client.events_append(
        run.run_id,
        run.seq,
        [
            NewEvent("run_started", {}),
            NewEvent("step_started", {"stepId": "step_1", "stepName": "s", "attempt": 1}, payload([1])),
        ],
    )
    seq = appended.events[1].seq
    result = await client.payloads_rewrite(
        run.run_id,
        [
            PayloadRewrite(PayloadSlot("event", seq=seq), payload([1]), payload([2])),
            PayloadRewrite(PayloadSlot("event", seq=seq), payload([1]), payload([3])),
        ],
    )
    assert (result.rewritten, result.skipped) == (1, 1)
    [event] = await client.events_list(run.run_id, after_seq=seq - 1)
    assert event.payload == payload([2])


async def test_notices_and_audit(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    key = new_id("notice")
    assert await client.notices_record(key) is True
    assert await client.notices_record(key) is False

    run = (await create_run(client)).run
    actor = AuditActor(user="pytest", host=socket.gethostname(), pid=os.getpid())
    entry = await client.audit_record(
        NewAuditEntry(actor, "read_decrypted", "run", [run.run_id], reason="test", outcome="succeeded")
    )
    assert entry.audit_id
    assert (entry.actor, entry.run_ids, entry.outcome) == (actor, (run.run_id,), "succeeded")
    page = await client.audit_list(run_id=run.run_id, limit=10)
    assert page.items == (entry,)
    assert page.next_cursor is None
