"""Test names of the paper's data: pytest node ids and timing keys -> test identity, device, dtype, function.

A case of the paper is identified by its test file and its *device-independent* test name: PyTorch's
``instantiate_device_type_tests`` marks a test with its device twice (class ``TestFooCUDA``, test
``test_bar_cuda_float32``); both marks are removed so that the CPU and GPU runs of one test pair.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# PyTorch's instantiate_device_type_tests suffixes: class TestFooCUDA, test test_bar_cuda[_<dtype>...].
INSTANTIATION_SUFFIX = {"cpu": "cpu", "cuda": "gpu", "xla": "tpu"}
_CLASS_SUFFIX = {dev: suffix.upper() for suffix, dev in INSTANTIATION_SUFFIX.items()}

# dtype names as they appear in test names -> numpy spelling.
DTYPE_NAMES = {
    "bool": "bool",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "long": "int64",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
    "float": "float32",
    "float64": "float64",
    "double": "float64",
    "complex32": "complex32",
    "chalf": "complex32",
    "complex64": "complex64",
    "cfloat": "complex64",
    "complex128": "complex128",
    "cdouble": "complex128",
    "qint8": "qint8",
    "quint8": "quint8",
    "qint32": "qint32",
}

_NAME_PARAMS = re.compile(r"^(?P<name>[^\[]*)(?P<params>\[.*\])?$", re.DOTALL)


@dataclass(frozen=True)
class TestName:
    """One test, as its node id (or timing key) names it."""

    __test__ = False  # not a pytest test class, whatever its name

    test_file: str  # "addr_test.py"
    raw: str  # the nodeid's last part, as in the timing files ("test_addr_bool_xla_bool")
    ident: str  # device-independent "<Class>::<test>" ("TestLinalg::test_addr_bool_bool")
    device: str | None  # cpu / gpu / tpu when the name says (PyTorch instantiated tests), else None
    dtype: str  # numpy spelling or "none"

    @property
    def source(self) -> str:
        """The case's ``source`` without the origin prefix: ``<test file>::<ident>``."""
        return f"{self.test_file}::{self.ident}"


TestIndex = dict[tuple[str, str], list[TestName]]
"""``(test file, test name without device marks) -> parsed names`` (see :func:`index_tests`)."""


def _dtype_tail(tokens: list[str]) -> list[str]:
    """The trailing tokens that are dtype names."""
    tail: list[str] = []
    for tok in reversed(tokens):
        if tok not in DTYPE_NAMES:
            break
        tail.insert(0, tok)
    return tail


def _strip_device(cls: str, tokens: list[str]) -> tuple[str, str, list[str], list[str]] | None:
    """(device, class without its suffix, name tokens without the device token, dtype tokens) when the
    class ends in an instantiation suffix and the name carries the matching token followed only by
    dtype tokens; else None."""
    for suffix, dev in INSTANTIATION_SUFFIX.items():
        if not cls.endswith(suffix.upper()) or len(cls) == len(suffix):
            continue
        tail = _dtype_tail(tokens)
        # The device token is the last one that is followed only by dtype tokens.
        for at in range(len(tokens) - 1, 0, -1):
            if tokens[at] == suffix and len(tokens) - at - 1 <= len(tail):
                return dev, cls[: -len(suffix)], tokens[:at] + tokens[at + 1 :], tokens[at + 1 :]
        return None
    return None


def parse_test_name(nodeid: str) -> TestName:
    """Split a pytest nodeid into the device-independent test identity, device and dtype.

    ``src/x/addr_test.py::TestLinalgXLA::test_addr_bool_xla_bool`` gives file ``addr_test.py``,
    ident ``TestLinalg::test_addr_bool_bool``, device ``tpu``, dtype ``bool``. The device is
    only read where PyTorch's device-type instantiation left both marks: a class name ending in
    ``CPU``/``CUDA``/``XLA`` and a test name carrying the matching ``_cpu``/``_cuda``/``_xla``
    token (followed only by dtype tokens).
    """
    parts = nodeid.split("::")
    test_file = parts[0].replace("\\", "/").rsplit("/", 1)[-1]
    classes = parts[1:-1]
    raw = parts[-1]
    m = _NAME_PARAMS.match(raw)
    name, params = (m.group("name"), m.group("params") or "") if m else (raw, "")
    tokens = name.split("_")
    device = None
    # Without a device mark, only the name's last token is read as a dtype ("testCast_float32").
    dtypes = tokens[-1:] if len(tokens) > 1 and tokens[-1] in DTYPE_NAMES else []
    stripped = _strip_device(classes[-1], tokens) if classes else None
    if stripped is not None:
        device, cls, tokens, dtypes = stripped
        classes = [*classes[:-1], cls]
    dtype = DTYPE_NAMES[dtypes[0]] if dtypes else "none"
    ident = "::".join([*classes, "_".join(tokens) + params])
    return TestName(test_file=test_file, raw=raw, ident=ident, device=device, dtype=dtype)


def _stem(test_file: str) -> str:
    return test_file[:-3] if test_file.endswith(".py") else test_file


def file_key(test_file: str) -> str:
    """The function key of a test file: its stem without a ``_test`` suffix or ``test_`` prefix."""
    stem = _stem(test_file)
    if stem.endswith("_test") and len(stem) > 5:
        return stem[:-5]
    if stem.startswith("test_") and len(stem) > 5:
        return stem[5:]
    return stem


def function_for(test_file: str, mapping: dict[str, str]) -> str:
    """The sampled function a test file tests: by ``mapping`` (file key or stem), else the file key."""
    key = file_key(test_file)
    return mapping.get(key) or mapping.get(_stem(test_file)) or key


def index_tests(nodeids: Iterable[str]) -> TestIndex:
    """Index the tests of a framework's reports, to give timing-only entries the case ids of the same
    tests elsewhere (one entry per distinct ident)."""
    index: TestIndex = defaultdict(list)
    for nodeid in nodeids:
        name = parse_test_name(nodeid)
        key = (name.test_file, name.ident.split("::")[-1])
        if all(n.ident != name.ident for n in index[key]):
            index[key].append(name)
    return index


def timing_name(key: str, device: str, index: TestIndex) -> tuple[TestName, bool]:
    """The test of a timing entry ``'<file>.py:<raw name>'`` of a ``device`` timing file, and whether a
    report names it.

    The raw name is read as PyTorch's instantiated name, for ``device`` first, then for the other
    devices (a GPU machine's file also times its CPU-instantiated tests): the device token is stripped,
    the dtype read, and the name looked up in ``index``. The returned ``device`` is the one the name
    carries (else ``device``); unmatched or ambiguous names keep their own identity (they pair with nothing).
    """
    test_file, raw = key.split(":", 1)
    plain = parse_test_name(f"{test_file}::Portabench::{raw}")
    probes = [parse_test_name(f"{test_file}::Portabench{_CLASS_SUFFIX[d]}::{raw}")
              for d in [device] + [d for d in _CLASS_SUFFIX if d != device]]
    for probe in [p for p in probes if p.device is not None] + [plain]:
        found = index.get((test_file, probe.ident.split("::")[-1]), [])
        if len(found) == 1:
            n = found[0]
            return TestName(test_file=test_file, raw=raw, ident=n.ident, device=probe.device or device,
                            dtype=n.dtype), True
    return TestName(test_file=test_file, raw=raw, ident=plain.ident.split("::")[-1], device=device,
                    dtype=plain.dtype), False
