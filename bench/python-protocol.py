"""The Python protocol client's cost per call, on loopback (`npm run build`, then
`python/.venv/bin/python bench/python-protocol.py`; `N=` calls per figure, `ROUNDS=`).

Starts a `stepwise server` on the SQLite World the way the Python tests do (python/tests/server.py),
creates and acquires a run, then measures, rounds interleaved, medians over rounds:
- `events/append` through `ProtocolClient` (one step_started event with a payload, fenced by seq
  and owner: what a worker sends per step boundary), and `runs/get`;
- the same two requests through a bare keep-alive `http.client` connection: the floor (server,
  SQLite commit and loopback), so that the client's own share is the difference;
- this process's CPU time per append (time.process_time: what the client itself costs, whatever
  the machine's load), for both;
- the client's CPU alone: building the append's JSON and decoding its answer (no I/O).
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))

from server import start_server  # noqa: E402

from stepwise._protocol import AppendResult, NewEvent, ProtocolClient  # noqa: E402
from stepwise._protocol.wire import b64encode  # noqa: E402

N = int(os.environ.get("N", "500"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
PAYLOAD = b"\x01[[1],1]"


def step_event(i: int) -> NewEvent:
    return NewEvent("step_started", {"stepId": f"step_{i}", "stepName": "bench", "attempt": 1}, PAYLOAD)


async def client_round(
    client: ProtocolClient, run_id: str, seq: int, offset: int
) -> tuple[float, float, float, int]:
    start = time.perf_counter()
    cpu = time.process_time()
    for i in range(N):
        seq = (await client.events_append(run_id, seq, [step_event(offset + i)], owner="bench")).seq
    append = (time.perf_counter() - start) / N
    append_cpu = (time.process_time() - cpu) / N
    start = time.perf_counter()
    for _ in range(N):
        await client.runs_get(run_id)
    get = (time.perf_counter() - start) / N
    return append, get, append_cpu, seq


def floor_round(
    port: int, secret: str, run_id: str, seq: int, offset: int
) -> tuple[float, float, float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"authorization": f"Bearer {secret}", "content-type": "application/json"}
    base = "/stepwise/protocol/v1/"

    def post(operation: str, body: object) -> dict[str, object]:
        connection.request("POST", base + operation, json.dumps(body), headers)
        answer: dict[str, object] = json.loads(connection.getresponse().read())
        return answer

    start = time.perf_counter()
    cpu = time.process_time()
    for i in range(N):
        body = {
            "runId": run_id,
            "expectedSeq": seq,
            "owner": "bench",
            "events": [step_event(offset + i).to_wire()],
        }
        seq = int(str(post("events/append", body)["seq"]))
    append = (time.perf_counter() - start) / N
    append_cpu = (time.process_time() - cpu) / N
    start = time.perf_counter()
    for _ in range(N):
        post("runs/get", {"runId": run_id})
    get = (time.perf_counter() - start) / N
    connection.close()
    return append, get, append_cpu, seq


def cpu_only(sample: bytes) -> float:
    start = time.perf_counter()
    for i in range(N):
        body = {"runId": "wrun_x", "expectedSeq": i, "owner": "bench", "events": [step_event(i).to_wire()]}
        json.dumps(body, separators=(",", ":")).encode()
        AppendResult.from_wire(json.loads(sample))
    return (time.perf_counter() - start) / N


async def main() -> None:
    server = start_server(Path(tempfile.mkdtemp(prefix="stepwise-bench-")))
    try:
        async with ProtocolClient(server.url, server.secret) as client:
            from stepwise._protocol import CreateRunInput

            run_id = "wrun_bench"
            created = await client.runs_create(CreateRunInput(run_id, "bench", 5, "seed", False, b"\x01[[]]"))
            await client.runs_acquire(run_id, "bench", 600_000)
            seq = created.run.seq
            sample = json.dumps(
                {
                    "seq": 3,
                    "events": [
                        {
                            "runId": run_id,
                            "seq": 3,
                            "type": "step_started",
                            "data": {"stepId": "step_1", "stepName": "bench", "attempt": 1},
                            "payload": b64encode(PAYLOAD),
                            "createdAt": 1,
                        }
                    ],
                    "run": {"runId": run_id, "status": "running", "seq": 3, "payloadBytes": 20},
                }
            ).encode()
            figures: dict[str, list[float]] = {
                k: []
                for k in (
                    "append",
                    "get",
                    "append_cpu",
                    "floor_append",
                    "floor_get",
                    "floor_append_cpu",
                    "cpu",
                )
            }
            offset = 0
            for _ in range(ROUNDS):
                append, get, append_cpu, seq = await client_round(client, run_id, seq, offset)
                offset += N
                floor_append, floor_get, floor_append_cpu, seq = floor_round(
                    server.port, server.secret, run_id, seq, offset
                )
                offset += N
                for key, value in (
                    ("append", append),
                    ("get", get),
                    ("append_cpu", append_cpu),
                    ("floor_append_cpu", floor_append_cpu),
                    ("floor_append", floor_append),
                    ("floor_get", floor_get),
                    ("cpu", cpu_only(sample)),
                ):
                    figures[key].append(value * 1000)
        med = {k: statistics.median(v) for k, v in figures.items()}
        print(f"python protocol client, loopback, {ROUNDS} rounds x {N} calls (median of round means, ms):")
        a, g = med["append"], med["get"]
        fa, fg = med["floor_append"], med["floor_get"]
        print(
            f"  events/append  ProtocolClient {a:.3f}   bare http.client {fa:.3f}   client share {a - fa:.3f}"
        )
        print(
            f"  runs/get       ProtocolClient {g:.3f}   bare http.client {fg:.3f}   client share {g - fg:.3f}"
        )
        cpu, floor_cpu = med["append_cpu"], med["floor_append_cpu"]
        print(f"  client CPU per events/append: ProtocolClient {cpu:.3f}   bare http.client {floor_cpu:.3f}")
        print(f"  encode + decode of one append, CPU only: {med['cpu']:.3f}")
        print(f"  load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
