"""The Python engine: replays a run's event log through the workflow and records what it does next.

It mirrors the TypeScript runtime (src/runtime/): `plan` reads a log into the calls and outcomes a
replay checks and delivers, `loop` runs workflow code deterministically, `machine` turns the
workflow's calls into events and outcomes into deliveries. Nothing here does I/O.
"""
