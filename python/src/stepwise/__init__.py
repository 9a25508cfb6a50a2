"""Stepwise for Python: durable workflows on the Stepwise engine.

Workflows and steps are written as ordinary async functions; a Python worker replays each run
from its event log, which a Stepwise server keeps (the worker protocol, docs/protocol.md).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
