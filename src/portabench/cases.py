"""The case format shared by every framework adapter, the runner and the store.

A *case* is one call of one function with one set of inputs in one dtype. Its
``case_id`` is stable: the same function, source, dtype and sample index give
the same id on every device, machine and run, so results pair up across runs.
Adapters produce :class:`CaseDescriptor` objects (plain JSON data); the worker
rebuilds the actual inputs from a descriptor deterministically (seeded), so a
descriptor listed by one worker can be executed by another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CaseDescriptor:
    """One case, as data.

    Attributes:
        function: qualified name of the function under test (``torch.add``).
        source: where the case comes from, e.g. ``opinfo:add``, ``moduleinfo:nn.Linear``,
            ``spec:builtin/torch.toml#basic``; part of the id.
        dtype: dtype name in numpy spelling (``float32``, ``bfloat16``, ``int64``,
            ``bool``, ``complex64``) or ``none`` when the case has no dtype.
        sample: index of the sample within (function, source, dtype).
        random: True when outputs are random; such cases are checked by properties
            (shape, dtype, device, finiteness), not values.
        extra: adapter-specific JSON data needed to rebuild the case.
    """

    function: str
    source: str
    dtype: str
    sample: int
    random: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def case_id(self) -> str:
        return f"{self.function}|{self.source}|{self.dtype}|{self.sample}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["case_id"] = self.case_id
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseDescriptor:
        return cls(
            function=data["function"],
            source=data["source"],
            dtype=data["dtype"],
            sample=int(data["sample"]),
            random=bool(data.get("random", False)),
            extra=dict(data.get("extra") or {}),
        )


# Outcomes of a case in a run.
PASSED = "passed"  # ran on the device and matched the reference (or ran, on the reference run)
FAILED = "failed"  # a portability failure; ``category`` says why
REFERENCE_FAILED = "reference_failed"  # broken on the reference device too: not a portability failure
UNKNOWN = "unknown"  # imported timing-only data: the case ran, its outcome was not recorded
#: an internal error (an adapter bug, a worker reply not understood): no data about the framework, counted
#: apart and never part of a portability share
ERROR = "error"

DEFAULT_DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "bool", "complex64")
#: input samples per function, case source and dtype (``--max-samples``); the one place this default is written
DEFAULT_MAX_SAMPLES = 5


#: every dtype name a run may ask for (numpy spelling; the union of what the adapters know)
KNOWN_DTYPES = (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64", "complex32", "complex64", "complex128",
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
)


def dtype_list(text: str | None) -> list[str]:
    """Comma-separated dtype names -> list; None or empty gives :data:`DEFAULT_DTYPES`.

    A name outside :data:`KNOWN_DTYPES` raises PortabenchError naming the closest known ones.
    """
    import difflib

    from portabench.errors import PortabenchError

    if not text:
        return list(DEFAULT_DTYPES)
    dtypes = list(dict.fromkeys(d.strip() for d in text.split(",") if d.strip()))
    if not dtypes:
        raise PortabenchError("--dtypes needs at least one dtype")
    for name in dtypes:
        if name not in KNOWN_DTYPES:
            close = difflib.get_close_matches(name, KNOWN_DTYPES, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(KNOWN_DTYPES)}"
            raise PortabenchError(f"unknown dtype {name!r} in --dtypes ({hint})")
    return dtypes
