"""TensorFlow device strings: parsing, availability, placement of results.

Accepted spellings (case-insensitive): ``cpu``, ``gpu``, ``tpu``, ``gpu:1``,
``/gpu:1``, ``/device:GPU:0``, ``/job:localhost/replica:0/task:0/device:GPU:0``.
A ``+soft`` suffix (``gpu+soft``, ``/device:GPU:0+soft``) turns soft device
placement on for the run (see docs/tensorflow.md); so does the environment
variable ``PORTABENCH_TF_SOFT_PLACEMENT=1`` of the worker.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

SOFT_SUFFIX = "+soft"
SOFT_ENV = "PORTABENCH_TF_SOFT_PLACEMENT"

_DEVICE_RE = re.compile(r"^(?:/job:[^/]+/replica:\d+/task:\d+)?/?(?:device:)?([a-z_]+)(?::(\d+))?$")


@dataclass(frozen=True)
class TFDevice:
    kind: str  # "CPU", "GPU", "TPU" (TensorFlow's device type)
    index: int
    soft: bool = False  # soft placement requested with the +soft suffix

    @property
    def name(self) -> str:
        """The string ``tf.device`` gets: ``/device:GPU:0``."""
        return f"/device:{self.kind}:{self.index}"


def parse_device(text: str) -> TFDevice:
    """Parse a device string; ValueError when it is not a device spelling."""
    raw = text.strip()
    soft = raw.lower().endswith(SOFT_SUFFIX)
    if soft:
        raw = raw[: -len(SOFT_SUFFIX)]
    m = _DEVICE_RE.match(raw.lower())
    if not m:
        raise ValueError(f"{text!r} is not a TensorFlow device (use cpu, gpu, gpu:1, tpu or /device:GPU:0)")
    kind = m.group(1).upper()
    if kind == "CUDA":  # users coming from torch
        kind = "GPU"
    return TFDevice(kind, int(m.group(2) or 0), soft)


def soft_from_env() -> bool:
    return os.environ.get(SOFT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def result_device(device_attr: str) -> tuple[str, int] | None:
    """``/job:localhost/replica:0/task:0/device:GPU:0`` -> ("GPU", 0); None when empty/unknown."""
    m = re.search(r"device:([A-Za-z_]+):(\d+)", device_attr or "")
    if not m:
        return None
    return m.group(1).upper(), int(m.group(2))


def same_device(device_attr: str, want: TFDevice) -> bool:
    got = result_device(device_attr)
    if got is None:
        return True  # nothing to say (e.g. a host value)
    kind, index = got
    if want.kind == "TPU" and kind == "TPU_SYSTEM":
        return False
    return kind == want.kind and index == want.index


#: "Executing op Sin in device /job:localhost/replica:0/task:0/device:CPU:0" (eager placement log)
PLACEMENT_LINE = re.compile(r"Executing op (\S+) in device (\S+)")
#: "node_name: (Op): /job:localhost/replica:0/task:0/device:CPU:0" (graph placement log)
GRAPH_PLACEMENT_LINE = re.compile(r"^(\S+): \((\S+)\): (\S+)$")
