"""Runs, events and their projections through the protocol, against a real server.

Creating runs (idempotent, conflicts), leases, fenced appends (SEQUENCE_CONFLICT, LEASE_LOST,
RUN_FINISHED), steps and waits projected from the log, and a run imported from its export.
"""

from __future__ import annotations

import pytest
from helpers import create_run, new_id, run_input
from payloads import payload

from stepwise._protocol import (
    EventRecord,
    ImportMessage,
    ImportRunInput,
    ImportStream,
    LeaseLostError,
    ListRunsFilter,
    NewEvent,
    NewInboxItem,
    NewMessage,
    ProtocolClient,
    RunFinishedError,
    RunIdConflictError,
    RunNotFoundError,
    SequenceConflictError,
    StreamChunk,
)


async def test_runs_create_is_idempotent_and_reads_back(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    workflow = new_id("wf")
    spec = run_input(workflow, args=["order-1", {"qty": 2}])
    first = await client.runs_create(spec)
    assert first.created is True
    assert first.run.run_id == spec.run_id
    assert first.run.status == "pending"
    assert first.run.seq == 1
    assert first.run.input == payload(["order-1", {"qty": 2}])
    assert first.run.lease is None
    again = await client.runs_create(spec)
    assert again.created is False
    assert again.run.created_at == first.run.created_at

    got = await client.runs_get(spec.run_id)
    assert got == first.run

    many = await client.runs_create_many([run_input(workflow), run_input(workflow)])
    assert [r.created for r in many] == [True, True]

    page = await client.runs_list(ListRunsFilter(workflow_name=[workflow], status=["pending"], limit=2))
    assert len(page.items) == 2
    assert page.next_cursor is not None
    rest = await client.runs_list(ListRunsFilter(workflow_name=[workflow], limit=2, cursor=page.next_cursor))
    assert {r.run_id for r in page.items + rest.items} == {spec.run_id, *(r.run.run_id for r in many)}
    assert workflow in await client.runs_workflow_names()
    created = first.run.created_at
    ranged = await client.runs_list(
        ListRunsFilter(workflow_name=[workflow], created_since=created, created_before=created + 1)
    )
    assert spec.run_id in {r.run_id for r in ranged.items}
    assert all(created <= r.created_at < created + 1 for r in ranged.items)
    later = await client.runs_list(ListRunsFilter(workflow_name=[workflow], created_since=created + 3_600_000))
    assert list(later.items) == []

    events = await client.events_list(spec.run_id)
    assert [e.type for e in events] == ["run_created"]
    assert events[0].data["workflowName"] == workflow
    assert events[0].payload == spec.input


async def test_run_errors_carry_their_details(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    missing = new_id("wrun")
    with pytest.raises(RunNotFoundError) as not_found:
        await client.runs_get(missing)
    assert not_found.value.run_id == missing
    assert not_found.value.status == 404
    assert not_found.value.code == "RUN_NOT_FOUND"

    spec = run_input("wf_a")
    await client.runs_create(spec)
    with pytest.raises(RunIdConflictError) as conflict:
        await client.runs_create(run_input("wf_b", run_id=spec.run_id))
    assert conflict.value.run_id == spec.run_id
    assert conflict.value.workflow_name == "wf_a"
    assert conflict.value.requested_workflow_name == "wf_b"


async def test_appends_are_fenced_by_seq_and_lease(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    acquired = await client.runs_acquire(run.run_id, "worker-a", 30_000)
    assert acquired.acquired is True
    assert acquired.run.lease is not None and acquired.run.lease.owner == "worker-a"
    other = await client.runs_acquire(run.run_id, "worker-b", 30_000)
    assert other.acquired is False
    assert other.run.wake_pending is True

    started = await client.events_append(
        run.run_id,
        run.seq,
        [
            NewEvent("run_started", {}),
            NewEvent("step_started", {"stepId": "step_1", "stepName": "charge", "attempt": 1}, payload([5])),
        ],
        owner="worker-a",
    )
    assert started.seq == 3
    assert started.run.status == "running"
    assert [(e.seq, e.type) for e in started.events] == [(2, "run_started"), (3, "step_started")]

    # Another worker extended the log meanwhile: our seq is stale.
    with pytest.raises(SequenceConflictError) as stale:
        await client.events_append(run.run_id, run.seq, [NewEvent("run_started", {})], owner="worker-a")
    assert (stale.value.run_id, stale.value.expected_seq, stale.value.actual_seq) == (run.run_id, 1, 3)

    # The lease is worker-a's: worker-b cannot write, whatever its seq.
    with pytest.raises(LeaseLostError):
        await client.events_append(
            run.run_id,
            started.seq,
            [NewEvent("step_completed", {"stepId": "step_1", "attempt": 1}, payload("ok"))],
            owner="worker-b",
        )
    assert len(await client.events_list(run.run_id)) == 3  # refused writes changed nothing

    assert await client.runs_renew("worker-a", [run.run_id], 30_000) == (run.run_id,)
    assert await client.runs_renew("worker-b", [run.run_id], 30_000) == ()

    # Without the echo (the worker keeps its own copy): the same append, the answer has no events.
    done = await client.events_append(
        run.run_id,
        started.seq,
        [
            NewEvent("step_completed", {"stepId": "step_1", "attempt": 1}, payload("ok")),
            NewEvent("run_completed", {}, payload("done")),
        ],
        owner="worker-a",
        release_lease=True,
        return_events=False,
    )
    assert (done.seq, done.events) == (5, ())
    assert done.run.status == "completed"
    assert done.lease_released is not None
    stored = await client.events_list(run.run_id, after_seq=3)
    assert [(e.seq, e.type, e.payload) for e in stored] == [
        (4, "step_completed", payload("ok")),
        (5, "run_completed", payload("done")),
    ]
    finished = await client.runs_get(run.run_id)
    assert finished.output == payload("done")
    assert finished.completed_at is not None

    with pytest.raises(RunFinishedError) as ended:
        await client.events_append(run.run_id, done.seq, [NewEvent("run_started", {})])
    assert ended.value.run_id == run.run_id
    assert ended.value.run_status == "completed"

    steps = await client.steps_list(run.run_id)
    assert [(s.step_id, s.status, s.output) for s in steps] == [("step_1", "completed", payload("ok"))]
    step = await client.steps_get(run.run_id, "step_1")
    assert step.step_name == "charge"
    assert step.input == payload([5])

    after = await client.events_list(run.run_id, after_seq=3, limit=1)
    assert [e.type for e in after] == ["step_completed"]


async def test_release_and_waits(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    await client.runs_acquire(run.run_id, "worker-a", 30_000)
    appended = await client.events_append(
        run.run_id,
        run.seq,
        [
            NewEvent("run_started", {}),
            NewEvent("wait_created", {"waitId": "wait_1", "resumeAt": 4_102_444_800_000}),
        ],
        owner="worker-a",
        enqueue=[NewMessage(run.run_id, "wake", available_at=4_102_444_800_000)],
    )
    waits = await client.waits_list(run_id=run.run_id)
    assert [(w.wait_id, w.kind, w.status, w.resume_at) for w in waits] == [
        ("wait_1", "sleep", "waiting", 4_102_444_800_000)
    ]
    assert await client.waits_list(run_id=run.run_id, status="completed") == ()
    assert "wake" in [m.kind for m in await client.queue_list(run.run_id)]
    # Someone asks for the run meanwhile: the first release is refused once, so the owner looks again.
    assert (await client.runs_acquire(run.run_id, "worker-b", 30_000)).acquired is False
    assert await client.runs_release(run.run_id, "worker-a") is False
    assert await client.runs_release(run.run_id, "worker-a") is True
    assert (await client.runs_get(run.run_id)).lease is None
    assert (await client.runs_get(run.run_id)).seq == appended.seq


async def test_runs_import_writes_an_exported_run(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run_id = new_id("wrun")
    imported = ImportRunInput(
        run_id=run_id,
        workflow_name="py_imported",
        spec_version=5,
        seed="seed",
        encrypted=False,
        events=[
            EventRecord(
                run_id,
                1,
                "run_created",
                {"workflowName": "py_imported", "seed": "seed", "specVersion": 5},
                payload([]),
                1_000,
            ),
            EventRecord(run_id, 2, "run_started", {}, None, 1_001),
        ],
        streams=[ImportStream("out", True, [StreamChunk(0, b"hi", 1_002)])],
        messages=[ImportMessage("wake", 1_003)],
    )
    result = await client.runs_import(imported)
    assert result.imported is True
    assert result.run.status == "running"
    assert result.run.seq == 2
    assert [e.type for e in await client.events_list(run_id)] == ["run_created", "run_started"]
    read = await client.streams_read(run_id, "out")
    assert [c.data for c in read.chunks] == [b"hi"]
    assert read.info.closed is True
    assert (await client.runs_import(imported)).imported is False


async def test_large_payloads_travel_both_ways(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    text = "x" * (8 * 1024 * 1024)
    big = payload(text)
    run = (await client.runs_create(run_input(args=[text]))).run
    assert run.input == payload([text])
    appended = await client.events_append(
        run.run_id,
        run.seq,
        [NewEvent("step_started", {"stepId": "step_big", "stepName": "s", "attempt": 1}, big)],
    )
    assert appended.events[0].payload == big
    assert [e.payload for e in await client.events_list(run.run_id)] == [payload([text]), big]


async def test_pick_up_takes_the_lease_with_the_log_and_inbox(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    item = await client.inbox_put(NewInboxItem(run.run_id, "event", event_type="go", payload=payload(1)))
    picked = await client.runs_pick_up(run.run_id, "worker-a", 30_000)
    assert picked.acquired is True
    assert picked.run.lease is not None and picked.run.lease.owner == "worker-a"
    assert picked.events is not None and [e.type for e in picked.events] == ["run_created"]
    assert picked.inbox == (item,)
    # The caller's log is current: only the lease and the inbox come back.
    again = await client.runs_pick_up(run.run_id, "worker-a", 30_000, known_seq=picked.run.seq)
    assert again.acquired is True and again.events is None and again.inbox == (item,)
    # Someone else holds it: nothing is read.
    other = await client.runs_pick_up(run.run_id, "worker-b", 30_000)
    assert (other.acquired, other.events, other.inbox) == (False, None, None)
