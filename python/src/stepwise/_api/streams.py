"""Durable streams in Python, in the format the TypeScript engine reads and writes: each chunk is
one stored payload (a value's codec text at place `stream:<name>`, encrypted like the rest), so a
stream written in one language is read in the other. A step writes (`workflow.get_writable()`);
anyone reads (`run.get_readable()`), from any index, tailing live until the stream is closed or
its run has ended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .._base import StepwiseError
from .._engine.codec import BoundPayloads
from .._engine.events import TERMINAL_RUN_STATUSES
from .._engine.step_context import current_step
from .._protocol import NotFoundError, ProtocolClient
from .._serde import parse, places, stringify

DEFAULT_STREAM = "default"


class StreamWriter:
    """Writes values to one of a run's streams; `close()` ends it for readers."""

    def __init__(self, client: ProtocolClient, payloads: BoundPayloads, run_id: str, name: str) -> None:
        self._client = client
        self._payloads = payloads
        self.run_id = run_id
        self.name = name

    async def write(self, value: object) -> None:
        """Stores one chunk (any value the payload format carries)."""
        data = self._payloads.seal(
            places.stream_chunk(self.name), stringify(value, root="chunk"), f'A chunk of stream "{self.name}"'
        )
        await self._client.streams_write(self.run_id, self.name, [data])

    async def close(self) -> None:
        """Ends the stream: readers stop after its last chunk. Closing twice is harmless."""
        try:
            if (await self._client.streams_info(self.run_id, self.name)).closed:
                return
        except NotFoundError:
            pass  # nothing written yet: closing creates it, closed and empty
        await self._client.streams_write(self.run_id, self.name, [], close=True)


def get_writable(name: str | None = None) -> StreamWriter:
    """Inside a step: a writer to the run's stream `name` (the default stream when None)."""
    info = current_step()
    if info is None:
        raise StepwiseError(
            "get_writable() is for steps: write to a run's stream from a function decorated with "
            "@wf.step (or a step.do step), where writes happen once."
        )
    client = info.extra.get("client")
    payloads = info.extra.get("payloads")
    if not isinstance(client, ProtocolClient) or not isinstance(payloads, BoundPayloads):
        raise StepwiseError("this step runs without a worker's stream access (get_writable needs a Stepwise worker)")
    return StreamWriter(client, payloads, info.run_id, name or DEFAULT_STREAM)


async def read_stream(
    client: ProtocolClient, payloads: BoundPayloads, run_id: str, name: str, start: int = 0
) -> AsyncIterator[object]:
    """The values of a run's stream from index `start` (negative: from the tail), then live."""
    # A stream exists once its first chunk (or its close) is written: wait for it, as long as the
    # run may still write it.
    while True:
        try:
            info = await client.streams_info(run_id, name)
            break
        except NotFoundError:
            if (await client.runs_get(run_id)).status in TERMINAL_RUN_STATUSES:
                return
            await asyncio.sleep(0.1)
    index = max(0, info.length + start) if start < 0 else start
    while True:
        read = await client.streams_read(run_id, name, from_=index, limit=256, wait_ms=1_000)
        for chunk in read.chunks:
            yield parse(payloads.open(places.stream_chunk(name), chunk.data))
            index = chunk.index + 1
        if read.chunks:
            continue
        if read.info.closed and index >= read.info.length:
            return
        record = await client.runs_get(run_id)
        if record.status in TERMINAL_RUN_STATUSES:
            last = await client.streams_read(run_id, name, from_=index, limit=256)
            for chunk in last.chunks:
                yield parse(payloads.open(places.stream_chunk(name), chunk.data))
            return
