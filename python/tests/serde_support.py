"""Helpers for the payload tests: the vectors' value notation in Python, a comparable form of a
value (NaN equal to NaN, -0.0 apart from 0.0, int apart from float, exceptions by name and
message), and the Node peer that runs the engine's built serde (tests/node/serde_peer.mjs)."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from conftest import REPO_ROOT

from stepwise._serde import UNDEFINED, URL, JSMap, RegExp, URLSearchParams
from stepwise._serde.error_values import error_shape, exception_from_shape

VECTORS = REPO_ROOT / "spec" / "vectors"
PEER = Path(__file__).parent / "node" / "serde_peer.mjs"


def load_vectors(name: str) -> dict[str, object]:
    """A file of spec/vectors, parsed."""
    loaded: dict[str, object] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return loaded


def from_notation(value: object) -> object:
    """The Python value a vector's JSON notation (docs/payloads.md §4) stands for."""
    if isinstance(value, list):
        return [from_notation(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("$type")
    if kind is None:
        return {key: from_notation(item) for key, item in value.items()}
    if kind == "undefined":
        return UNDEFINED
    if kind == "number":
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}[value["value"]]
    if kind == "bigint":
        return int(value["value"])
    if kind == "date":
        return datetime.fromisoformat(value["value"])
    if kind == "map":
        return JSMap((from_notation(k), from_notation(v)) for k, v in value["entries"])
    if kind == "set":
        return {from_notation(item) for item in value["values"]}
    if kind == "bytes":
        return base64.b64decode(value["base64"])
    if kind == "url":
        return URL(value["value"])
    if kind == "regexp":
        return RegExp(value["source"], value["flags"])
    if kind == "error":
        return exception_from_shape({"name": value["name"], "message": value["message"]})
    raise AssertionError(f"unknown notation {kind}")


def comparable(value: object) -> object:
    """A form of `value` that `==` compares as a payload reader must keep it."""
    if isinstance(value, bool) or value is None or value is UNDEFINED:
        return ("const", repr(value))
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        if math.isnan(value):
            return ("float", "nan")
        return ("float", value, math.copysign(1.0, value))
    if isinstance(value, URL | URLSearchParams):
        return (type(value).__name__, str(value))
    if isinstance(value, str | bytes | datetime):
        return (type(value).__name__, value)
    if isinstance(value, JSMap):
        return ("map", [(comparable(k), comparable(v)) for k, v in value.items()])
    if isinstance(value, dict):
        return ("dict", {key: comparable(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return ("list", [comparable(item) for item in value])
    if isinstance(value, set | frozenset):
        return ("set", sorted((repr(comparable(item)) for item in value)))
    if isinstance(value, re.Pattern):
        flags = "".join(l for f, l in ((re.I, "i"), (re.M, "m"), (re.S, "s")) if value.flags & f)
        return ("regexp", value.pattern, flags)
    if isinstance(value, RegExp):
        return ("regexp", value.source, value.flags)
    if isinstance(value, BaseException):
        shape = error_shape(value) or {}
        return ("error", type(value).__name__, shape.get("name"), str(value))
    return ("other", repr(value))


def node_peer(request: dict[str, object]) -> dict[str, object]:
    """The answer of a real Node process running dist/serde (see tests/node/serde_peer.mjs)."""
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the cross-language tests need Node.js 20+"
    assert (REPO_ROOT / "dist" / "serde" / "codec.js").exists(), (
        "dist/serde is missing: run `npm run build` in the repository first"
    )
    done = subprocess.run(
        [node, str(PEER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"the Node peer failed:\n{done.stderr}"
    answer: dict[str, object] = json.loads(done.stdout)
    return answer
