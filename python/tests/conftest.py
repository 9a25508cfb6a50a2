"""Shared pytest setup for the Python SDK's tests."""

from __future__ import annotations

from pathlib import Path

#: The repository's root: the tests read `spec/` and start the server from `dist/`.
REPO_ROOT = Path(__file__).resolve().parents[2]
