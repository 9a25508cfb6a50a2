"""Hooks, the inbox and durable streams through the protocol, against a real server.

A hook created by an append is found by its token, a payload put in its run's inbox is taken by
the next append; a stream read with `wait_ms` (a tail) is answered by a write made while it waits.
"""

from __future__ import annotations

import asyncio

import pytest
from helpers import create_run, new_id
from payloads import payload

from stepwise._protocol import (
    ConflictError,
    HookNotFoundError,
    HookTokenConflictError,
    NewEvent,
    NewInboxItem,
    ProtocolClient,
)


async def test_hooks_by_token_and_their_inbox(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    token = new_id("tok")
    hook_id = new_id("hook")
    created = await client.events_append(
        run.run_id,
        run.seq,
        [
            NewEvent("run_started", {}),
            NewEvent(
                "hook_created",
                {"hookId": hook_id, "token": token, "kind": "hook", "meta": {"for": "approval"}},
            ),
        ],
    )
    hook = await client.hooks_get_by_token(token)
    assert (hook.hook_id, hook.run_id, hook.kind, hook.status, hook.meta) == (
        hook_id,
        run.run_id,
        "hook",
        "active",
        {"for": "approval"},
    )
    assert await client.hooks_get(hook_id) == hook
    assert await client.hooks_list(run_id=run.run_id, status="active") == (hook,)

    # Another run's hook on the same token is refused.
    other = (await create_run(client)).run
    with pytest.raises(HookTokenConflictError) as conflict:
        await client.events_append(
            other.run_id,
            other.seq,
            [NewEvent("hook_created", {"hookId": new_id("hook"), "token": token, "kind": "hook"})],
        )
    assert conflict.value.token == token
    assert conflict.value.held_by_run_id == run.run_id

    # Resuming the hook: its payload waits in the run's inbox until an append takes it.
    item = await client.inbox_put(
        NewInboxItem(run.run_id, "hook_payload", hook_id=hook_id, payload=payload({"approved": True}))
    )
    assert item.kind == "hook_payload"
    assert item.payload == payload({"approved": True})
    assert await client.inbox_list(run.run_id) == (item,)
    assert "inbox" in [m.kind for m in await client.queue_list(run.run_id)]
    taken = await client.events_append(
        run.run_id,
        created.seq,
        [
            NewEvent("hook_received", {"hookId": hook_id, "inboxId": item.item_id}, item.payload),
            NewEvent("hook_disposed", {"hookId": hook_id}),
        ],
        consume_inbox=[item.item_id],
    )
    assert [e.type for e in taken.events] == ["hook_received", "hook_disposed"]
    assert await client.inbox_list(run.run_id) == ()
    assert (await client.hooks_get(hook_id)).status == "disposed"
    with pytest.raises(HookNotFoundError) as gone:
        await client.hooks_get_by_token(token)
    assert gone.value.token == token


async def test_stream_tail_is_answered_by_a_write(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    info = await client.streams_write(run.run_id, "out", [b"\x01a", b"\x01b"])
    assert (info.name, info.length, info.closed) == ("out", 2, False)
    read = await client.streams_read(run.run_id, "out", from_=1)
    assert [(c.index, c.data) for c in read.chunks] == [(1, b"\x01b")]

    tail = asyncio.create_task(client.streams_read(run.run_id, "out", from_=2, wait_ms=30_000))
    await asyncio.sleep(0.3)
    assert not tail.done()
    await client.streams_write(run.run_id, "out", [b"\x01c"], close=True)
    got = await asyncio.wait_for(tail, 30)
    assert [(c.index, c.data) for c in got.chunks] == [(2, b"\x01c")]

    info = await client.streams_info(run.run_id, "out")
    assert (info.length, info.closed) == (3, True)
    assert await client.streams_list(run.run_id) == (info,)
    # A closed stream answers a tail at once, with nothing.
    empty = await client.streams_read(run.run_id, "out", from_=3, wait_ms=30_000)
    assert empty.chunks == ()
    with pytest.raises(ConflictError):
        await client.streams_write(run.run_id, "out", [b"\x01d"])
