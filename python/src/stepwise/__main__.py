"""`python -m stepwise worker <modules…>`: runs a Python worker for the workflows those modules
declare, against the Stepwise server named by STEPWISE_WORLD and STEPWISE_HTTP_SECRET."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ._base import StepwiseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stepwise", description="Stepwise for Python.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="run a worker for the workflows in these modules")
    worker.add_argument("modules", nargs="+", help="modules (app.workflows) or files (app/workflows.py)")
    worker.add_argument("--max-runs", type=int, default=100, help="runs driven at once (default 100)")
    args = parser.parse_args(argv)
    from ._api.worker import run_worker
    from ._engine.worker import WorkerOptions

    try:
        asyncio.run(run_worker(args.modules, WorkerOptions(max_runs=args.max_runs)))
    except StepwiseError as error:
        print(f"stepwise worker: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
