"""The queue, worker registration and task leases through the protocol, against a real server.

Long polls are answered by a write made while they wait: a claim by an enqueue, a task lease by
a new run of the worker's workflow. A worker that registers versions is leased only runs pinned
to them (or not pinned yet), and `workflows/list` names the workflows live workers registered.
"""

from __future__ import annotations

import asyncio

import pytest
from dataclasses import replace

from helpers import create_run, new_id, run_input

from stepwise._protocol import (
    NewMessage,
    ProtocolClient,
    WorkerNotFoundError,
    WorkerWorkflow,
    WorkflowVersionConflictError,
)


async def test_queue_claim_long_poll_is_answered_by_an_enqueue(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    start = await client.queue_claim("owner-a", 10, 30_000, run_ids=[run.run_id])
    assert [m.kind for m in start] == ["start"]
    assert start[0].lease is not None and start[0].lease.owner == "owner-a"
    await client.queue_ack("owner-a", [start[0].message_id])
    assert await client.queue_list(run.run_id) == ()

    # Nothing is due: the claim waits on the server until the enqueue below.
    claim = asyncio.create_task(
        client.queue_claim("owner-a", 10, 30_000, run_ids=[run.run_id], wait_ms=30_000)
    )
    await asyncio.sleep(0.3)
    assert not claim.done()
    await client.queue_enqueue([NewMessage(run.run_id, "wake", dedupe_key=f"wake:{run.run_id}")])
    claimed = await asyncio.wait_for(claim, 30)
    assert [(m.run_id, m.kind, m.deliveries) for m in claimed] == [(run.run_id, "wake", 1)]

    message = claimed[0]
    assert await client.queue_extend("owner-a", [message.message_id], 60_000) == (message.message_id,)
    assert await client.queue_extend("owner-b", [message.message_id], 60_000) == ()
    await client.queue_release("owner-a", message.message_id, available_at=4_102_444_800_000)
    assert await client.queue_next_available(run_ids=[run.run_id]) == 4_102_444_800_000
    assert await client.queue_claim("owner-a", 10, 30_000, run_ids=[run.run_id]) == ()
    # An empty long poll answers with nothing once its time is up.
    assert await client.queue_claim("owner-a", 10, 30_000, run_ids=[run.run_id], wait_ms=200) == ()
    await client.queue_release("owner-a", message.message_id)  # not leased any more: a no-op


async def test_an_append_acks_only_the_owners_messages(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    [message] = await client.queue_claim("owner-a", 1, 30_000, run_ids=[run.run_id])
    # Nobody holds the run's lease, so owner-b may append, but the message is owner-a's: it stays.
    await client.events_append(run.run_id, run.seq, [], owner="owner-b", ack=[message.message_id])
    assert [m.message_id for m in await client.queue_list(run.run_id)] == [message.message_id]
    await client.events_append(run.run_id, run.seq, [], owner="owner-a", ack=[message.message_id])
    assert await client.queue_list(run.run_id) == ()


async def test_workers_register_and_lease_tasks_of_their_workflows(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    workflow = new_id("py_wf")
    worker = await client.workers_register(
        "python",
        [WorkerWorkflow(workflow, version="v1", digest="d1")],
        label="pytest",
        steps=["step//charge"],
    )
    assert worker.language == "python"
    assert worker.workflows == (WorkerWorkflow(workflow, "v1", "d1"),)
    assert worker.steps == ("step//charge",)
    assert worker.worker_id in [w.worker_id for w in await client.workers_list()]

    # A run of another workflow is not this worker's task.
    other = (await create_run(client, new_id("other_wf"))).run
    lease = asyncio.create_task(client.tasks_lease(worker.worker_id, 5, 30_000, wait_ms=30_000))
    await asyncio.sleep(0.3)
    assert not lease.done()
    mine = (await create_run(client, workflow)).run
    tasks = await asyncio.wait_for(lease, 30)
    assert [(t.run_id, t.kind) for t in tasks] == [(mine.run_id, "start")]
    assert tasks[0].lease is not None and tasks[0].lease.owner == worker.worker_id
    assert other.run_id not in [t.run_id for t in tasks]

    # The same version with other code, from another live worker, is refused.
    with pytest.raises(WorkflowVersionConflictError) as conflict:
        await client.workers_register("python", [WorkerWorkflow(workflow, version="v1", digest="d2")])
    assert conflict.value.status == 409

    with pytest.raises(WorkerNotFoundError) as unknown:
        await client.tasks_lease("wkr_unknown", 1, 30_000)
    assert "register" in unknown.value.message


async def test_a_cancelled_long_poll_leaves_the_client_usable(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    await client.queue_claim("owner-a", 10, 30_000, run_ids=[run.run_id])  # takes the start message
    poll = asyncio.create_task(
        client.queue_claim("owner-a", 10, 30_000, run_ids=[run.run_id], wait_ms=30_000)
    )
    await asyncio.sleep(0.2)
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll
    # The cancelled call's connection is not reused (its answer would come later); the next calls work.
    await client.queue_enqueue([NewMessage(run.run_id, "wake")])
    claimed = await client.queue_claim("owner-a", 10, 30_000, run_ids=[run.run_id])
    assert [m.kind for m in claimed] == ["wake"]
    results = await asyncio.gather(*(client.runs_get(run.run_id) for _ in range(40)))
    assert {r.run_id for r in results} == {run.run_id}


async def test_leases_and_claims_follow_the_runs_code_version(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    workflow = new_id("py_versioned")
    v1, v2 = new_id("v1"), new_id("v2")
    one = await client.workers_register("python", [WorkerWorkflow(workflow, version=v1, digest="d1")])
    two = await client.workers_register("python", [WorkerWorkflow(workflow, version=v2, digest="d2")])
    assert workflow in await client.workflows_list()

    pinned_one = (await client.runs_create(replace(run_input(workflow), bundle_hash=v1))).run
    pinned_two = (await client.runs_create(replace(run_input(workflow), bundle_hash=v2))).run
    assert [t.run_id for t in await client.tasks_lease(two.worker_id, 10, 30_000)] == [pinned_two.run_id]
    assert [t.run_id for t in await client.tasks_lease(one.worker_id, 10, 30_000)] == [pinned_one.run_id]

    # queue/claim and queue/next-available take the same filter: a run not pinned yet is anybody's.
    unpinned = (await create_run(client, workflow)).run
    assert await client.queue_next_available(versions=[v1], run_ids=[unpinned.run_id]) is not None
    claimed = await client.queue_claim("owner-v", 10, 30_000, versions=[v1], workflows=[workflow])
    assert [m.run_id for m in claimed] == [unpinned.run_id]
    assert await client.queue_claim("owner-v", 10, 30_000, versions=[v2], workflows=[workflow]) == ()
