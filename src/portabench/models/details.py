"""The details a model case stores in its result (framework-free: written by the worker, read by reports).

The results table has no JSON column per case, so a model case's ``message`` is
a human line followed by one line ``MODEL_DETAILS_PREFIX + JSON`` holding:
``step`` (forward | train), ``batch``, ``err_ratio`` (worst error / tolerance, > 1
is a disagreement) and ``where``; on a disagreement ``f64`` (``device_err``,
``reference_err``, ``further``: who is further from the float64 result); and,
when localised, ``layer`` (``path``, ``type``, ``functions``, ``local_err``, ``how``).
"""

from __future__ import annotations

import json
import math
from typing import Any

MODEL_DETAILS_PREFIX = "model-details: "


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def encode_details(details: dict[str, Any]) -> str:
    """One line of JSON (non-finite floats written as strings)."""
    return json.dumps(_finite(details), sort_keys=True)


def parse_details(message: str | None) -> dict[str, Any]:
    """The details of a model case's message ({} when it has none)."""
    if not message:
        return {}
    at = message.rfind(MODEL_DETAILS_PREFIX)
    if at < 0:
        return {}
    try:
        value = json.loads(message[at + len(MODEL_DETAILS_PREFIX):].splitlines()[0])
    except (ValueError, IndexError):
        return {}
    return value if isinstance(value, dict) else {}


def human_message(message: str | None) -> str:
    """The message without its details line."""
    if not message:
        return ""
    at = message.rfind(MODEL_DETAILS_PREFIX)
    return (message[:at] if at >= 0 else message).strip()
