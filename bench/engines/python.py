"""Driver process for the Python engines of bench/python.mjs: Stepwise's Python SDK (a worker in
this process, `make_worker`, against the `stepwise server` named by STEPWISE_WORLD and
STEPWISE_HTTP_SECRET) or DBOS's Python SDK (`dbos`, on the PostgreSQL database BENCH_PG_URL).

`python bench/engines/python.py stepwise|dbos`. The orchestrator talks to it in JSON lines: this
process writes `{"type": "ready", "info": {...}}` (or `{"type": "ready", "error": "..."}`) on
stdout, then reads `{"id", "method", "params"}` lines on stdin and answers `{"id", "result"}` or
`{"id", "error"}`; `{"method": "__exit"}` stops it. Anything else it or the engine prints goes to
stderr. Methods:
- `sequential {"n"}`: one run of n sequential no-op steps, from just before the start call to
  the moment the caller sees it completed (Stepwise: `Run.wait()`, the server's result long poll;
  DBOS: `WorkflowHandleAsync.get_result()`); returns `{"totalMs", "perStepMs"}`, and this
  process's CPU time over the run per step (`cpuPerStepMs`: what the Python side itself costs).
- `warmUp {}`: two short runs, unmeasured.
- `split {"n"}` (Stepwise only): one run of n steps with every `events/append` timed where the
  worker sends it; returns the medians and means, over the run's second half, of the round trip
  (request written to answer read: the server's share and both wake-ups) and of the Python side's
  turn (answer read to the next append's request), in µs (bench/python-split.mjs).
Asserts nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOCOL_OUT = sys.stdout
sys.stdout = sys.stderr  # the engines' own output must not mix with the protocol

Runner = Callable[[int], Awaitable[object]]
#: Methods only the Stepwise engine has (`split`).
SPLITTERS: dict[str, Callable[[int], Awaitable[dict[str, float]]]] = {}


async def open_stepwise() -> tuple[dict[str, object], Runner, Callable[[], Awaitable[None]]]:
    """A Stepwise Python worker in this process and a client, both on STEPWISE_WORLD."""
    sys.path.insert(0, str(HERE.parent / "workflows"))
    import python_bench  # noqa: F401  (declares the workflow)

    import stepwise
    from stepwise._api.client import Client
    from stepwise._api.worker import make_worker
    from stepwise._protocol import ProtocolClient

    url = os.environ["STEPWISE_WORLD"]
    secret = os.environ["STEPWISE_HTTP_SECRET"]
    protocol = ProtocolClient(url, secret)
    worker = make_worker(protocol)
    task = asyncio.create_task(worker.run())
    client = Client(url, secret)

    async def run(n: int) -> object:
        handle = await client.start(python_bench.sequential, [n])
        record = await handle.wait()
        if record.status != "completed":
            raise RuntimeError(f"run {handle.run_id} ended {record.status}")
        return record.status

    async def split(n: int) -> dict[str, float]:
        from stepwise._protocol import http11

        marks: list[tuple[int, int]] = []
        post = http11.ConnectionPool.post

        async def timed(self: http11.ConnectionPool, path: str, headers: bytes, body: bytes, timeout: float) -> http11.Answer:
            if not path.endswith("/events/append"):
                return await post(self, path, headers, body, timeout)
            sent = time.perf_counter_ns()
            answer = await post(self, path, headers, body, timeout)
            marks.append((sent, time.perf_counter_ns()))
            return answer

        http11.ConnectionPool.post = timed  # type: ignore[method-assign]
        try:
            t0 = time.perf_counter()
            await run(n)
            total = (time.perf_counter() - t0) * 1000
        finally:
            http11.ConnectionPool.post = post  # type: ignore[method-assign]
        half = marks[len(marks) // 2 :]
        trips = sorted(b - a for a, b in half)
        turns = sorted(nxt[0] - cur[1] for cur, nxt in zip(half, half[1:]))
        return {
            "perStepMs": total / n,
            "roundTripUs": trips[len(trips) // 2] / 1000,
            "pythonTurnUs": turns[len(turns) // 2] / 1000,
            "roundTripMeanUs": sum(trips) / len(trips) / 1000,
            "pythonTurnMeanUs": sum(turns) / len(turns) / 1000,
        }

    async def close() -> None:
        await worker.stop()
        await asyncio.wait_for(task, 30)
        await protocol.aclose()
        await client.aclose()

    version = getattr(stepwise, "__version__", "dev")
    SPLITTERS["split"] = split
    return {"engine": "stepwise-python", "version": str(version), "world": url}, run, close


async def open_dbos() -> tuple[dict[str, object], Runner, Callable[[], Awaitable[None]]]:
    """DBOS Transact for Python on BENCH_PG_URL: default configuration, warnings-only logs."""
    from importlib.metadata import version

    from dbos import DBOS, DBOSConfig

    @DBOS.step()
    async def noop(i: int) -> int:
        return i

    @DBOS.workflow()
    async def sequential(n: int) -> int:
        last = 0
        for i in range(n):
            last = await noop(i)
        return last

    config: DBOSConfig = {
        "name": "stepwise-bench",
        "system_database_url": os.environ["BENCH_PG_URL"],
        "log_level": "WARNING",
    }
    DBOS(config=config)
    DBOS.launch()

    async def run(n: int) -> object:
        handle = await DBOS.start_workflow_async(sequential, n)
        return await handle.get_result()

    async def close() -> None:
        DBOS.destroy()

    return {"engine": "dbos-python", "version": version("dbos")}, run, close


def send(message: dict[str, object]) -> None:
    PROTOCOL_OUT.write(json.dumps(message) + "\n")
    PROTOCOL_OUT.flush()


async def serve(kind: str) -> None:
    try:
        info, run, close = await (open_stepwise() if kind == "stepwise" else open_dbos())
    except Exception as error:  # noqa: BLE001 - reported to the orchestrator, which says it loudly
        send({"type": "ready", "error": f"{type(error).__name__}: {error}"})
        return
    info["python"] = sys.version.split()[0]
    send({"type": "ready", "info": info})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        message = json.loads(line)
        if message.get("method") == "__exit":
            break
        params = message.get("params") or {}
        try:
            if message["method"] == "warmUp":
                for _ in range(2):
                    await run(20)
                result: dict[str, object] = {}
            elif message["method"] == "sequential":
                n = int(params["n"])
                cpu = time.process_time()
                t0 = time.perf_counter()
                await run(n)
                total = (time.perf_counter() - t0) * 1000
                result = {
                    "totalMs": total,
                    "perStepMs": total / n,
                    "cpuPerStepMs": (time.process_time() - cpu) * 1000 / n,
                }
            elif message["method"] in SPLITTERS:
                result = dict(await SPLITTERS[message["method"]](int(params["n"])))
            else:
                raise ValueError(f"unknown method {message['method']}")
            send({"id": message["id"], "result": result})
        except Exception as error:  # noqa: BLE001
            send({"id": message["id"], "error": f"{type(error).__name__}: {error}"})
    await asyncio.wait_for(close(), 15)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1] if len(sys.argv) > 1 else "stepwise"))
