"""The versioned JSON protocol between the parent and a worker.

Transport: the parent writes one JSON object per line to the worker's stdin;
the worker answers one JSON object per line on a dedicated pipe (its file
descriptor is given by ``--reply-fd``), so anything a framework prints cannot
corrupt replies. The worker's stdout and stderr both go to a log file whose
tail the parent keeps when the worker dies.

Request:  ``{"v": 1, "id": N, "op": OP, ...arguments}``
Reply:    ``{"v": 1, "id": N, "ok": true, "result": {...}}`` or
          ``{"v": 1, "id": N, "ok": false, "error": {"type": ..., "message": ..., "traceback": ...}}``

Ops: ``hello`` (adapter info), ``api``, ``coverage`` (API names and the
functions that have cases), ``devices``, ``list_cases``
(functions, dtypes, specs, max_samples), ``run_case`` (case, timing),
``shutdown``. A reply with another ``v`` or ``id`` is a protocol error: the
parent kills the worker.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1


class ProtocolError(Exception):
    """A malformed or mismatched message."""


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps({"v": PROTOCOL_VERSION, **message}, allow_nan=True) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {line[:200]!r}") from exc
    if not isinstance(message, dict) or message.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"unsupported protocol message: {str(message)[:200]}")
    return message
