"""TensorFlow device-placement logs of the paper (``device_logging/<test file>.txt``) as evidence of silent fallback.

Each log is the console output of one sampled test file run with
``log_device_placement``: lines ``<node>: (<OpType>): /job:…/device:<KIND>:<n>``
(interleaved with pytest's output). For a log in which some op was placed on an
accelerator (the test targeted it), an op type that was placed on the CPU and
*never* on the accelerator (infrastructure ops such as ``_Arg``/``_Retval``
excluded, :data:`INFRASTRUCTURE_OPS`) is evidence that it silently fell back to
the CPU. The importer records one case per log in the soft-placement run of that
accelerator: ``failed`` / ``wrong_device`` when such op types exist (the message
names them), ``passed`` otherwise. Logs without any accelerator placement say
nothing about fallback and give no case.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PLACEMENT = re.compile(
    r"(?:^|\s)(?P<node>[\w/.\-]+): \((?P<op>\w+)\): /job:\w+/replica:\d+/task:\d+/device:(?P<kind>[A-Z_]+):\d+"
)
INFRASTRUCTURE_OPS = frozenset({"_Arg", "_Retval", "_DeviceArg", "_DeviceRetval", "_EagerConst", "NoOp",
                                "_Send", "_Recv", "_HostSend", "_HostRecv"})
"""Op types that move data in and out of a function: where they run says nothing about fallback."""
ACCELERATORS = {"GPU": "gpu", "TPU": "tpu"}


@dataclass
class PlacementLog:
    """The placements of one log: op type -> device kind -> count."""

    file: str
    ops: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def accelerators(self) -> set[str]:
        """Normalised accelerator tokens (``gpu``, ``tpu``) on which some op was placed."""
        return {ACCELERATORS[k] for c in self.ops.values() for k in c if k in ACCELERATORS}

    def fallback_ops(self) -> list[str]:
        """Op types placed on the CPU and never on an accelerator (infrastructure ops excluded)."""
        accel = {k for c in self.ops.values() for k in c if k in ACCELERATORS}
        if not accel:
            return []
        return sorted(op for op, c in self.ops.items()
                      if op not in INFRASTRUCTURE_OPS and c.get("CPU") and not any(c.get(k) for k in accel))

    def message(self) -> str:
        """A one-line summary of the fallback evidence."""
        fb = self.fallback_ops()
        where = "/".join(sorted(self.accelerators)) or "an accelerator"
        placed = sum(self.ops[op]["CPU"] for op in fb)
        return (f"device_logging: {len(fb)} op type(s) placed only on the CPU ({placed} placements) while the test "
                f"placed other ops on the {where}: {', '.join(fb)}")


def parse_log(path: Path) -> PlacementLog:
    """Every placement line of ``path`` (undecodable bytes replaced)."""
    ops: dict[str, Counter[str]] = defaultdict(Counter)
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            for m in PLACEMENT.finditer(line):
                ops[m.group("op")][m.group("kind")] += 1
    return PlacementLog(file=path.name, ops=dict(ops))
