"""The framework registry, safe to import in the parent process: the one place for framework facts.

Nothing here imports a framework. An entry says what the parent knows of a
framework: its name and aliases (``tf``), the module that tells whether it is
installed, where its worker-side adapter lives (``module:Class``), its modes,
the import roots its usage miner resolves against and the type its methods are
named under (``Tensor``/``Array``), the accelerator kinds a study expects, the
environment of its workers, and how its device strings read
(:meth:`FrameworkEntry.parse_device`: the parent never splits a device string
itself). Adapters themselves (``portabench.frameworks.<name>_adapter``) are
imported only inside worker processes. Adding a framework means adding an entry
here and an adapter module; the runner does not change.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

from portabench.errors import PortabenchError

#: ``[/job:J/replica:R/task:T][/][device:]KIND[:INDEX][+FLAG...]`` (TensorFlow's long spellings included)
_DEVICE_RE = re.compile(r"^(?:/job:[^/]+/replica:\d+/task:\d+)?/?(?:device:)?([a-z_][a-z0-9_]*)(?::(\d+))?$")


@dataclass(frozen=True)
class DeviceSpec:
    """A device string as the parent reads it: ``gpu:1+soft`` -> kind ``gpu``, index 1, flags ``("soft",)``.

    ``text`` is the string as given; it is what the worker gets and what the store records.
    """

    text: str
    kind: str  # lower case, the framework's own name for the kind (``cuda``, ``gpu``, ``cpu``, ``meta``)
    index: int | None = None  # None: the kind, which a run may spread over every device of it
    flags: tuple[str, ...] = ()

    @property
    def indexed(self) -> bool:
        return self.index is not None


@dataclass(frozen=True)
class FrameworkEntry:
    """What the parent process knows of a framework."""

    name: str  # canonical name used in the store and on the command line
    import_name: str  # top-level module; installed iff importlib can find it
    adapter: str  # "module:Class" of the worker-side adapter
    modes: tuple[str, ...]  # execution modes; the first is the default
    mining_roots: tuple[str, ...]  # top-level modules whose imports the miner resolves
    extra: str  # pip extra that installs it: pip install 'portabench[<extra>]'
    #: device kind (as the adapter's ``info()`` names it) -> environment variable that shows a worker one device
    #: of that kind; used to spread a run over one worker per GPU (runner/dispatch.py)
    visible_devices_env: Mapping[str, str] = field(default_factory=dict)
    #: environment defaults of its workers (a variable already set in the parent's environment wins);
    #: the adapter records the ones that matter in the run's numerics
    worker_env: Mapping[str, str] = field(default_factory=dict)
    #: device kinds that do no computation (torch ``meta``: shapes only); their times mean nothing,
    #: so the analysis leaves them out of slowdowns
    timeless_devices: tuple[str, ...] = ()
    #: devices the default study adds on any machine, as mode columns (torch: ``meta``, what tracing and export use)
    study_devices: tuple[str, ...] = ()
    #: accelerator kinds the framework can target; a study names those absent on its machine
    expected_targets: tuple[str, ...] = ()
    #: other names of the framework on the command line and in published data (``tf``, ``pytorch``)
    aliases: tuple[str, ...] = ()
    #: the array type its methods are recorded under (``Tensor.sum``), and the qualified names of its
    #: array types (``torch.nn.Parameter``...): their methods are named ``<import_name>.<method_owner>.<method>``
    method_owner: str = "Tensor"
    array_types: tuple[str, ...] = ()
    #: namespaces whose function of a method's name a method call is also covered by (``x.sum()`` ~ ``torch.sum``)
    method_functions: tuple[str, ...] = ()
    #: flags a device string may carry after ``+`` (TensorFlow ``gpu+soft``: soft device placement)
    device_flags: tuple[str, ...] = ()
    #: other spellings of device kinds (TensorFlow takes ``cuda`` for ``gpu``)
    device_kind_aliases: Mapping[str, str] = field(default_factory=dict)

    def is_installed(self) -> bool:
        return importlib.util.find_spec(self.import_name) is not None

    def require_installed(self) -> None:
        if not self.is_installed():
            raise PortabenchError(
                f"framework {self.name!r} is not installed here (pip install 'portabench[{self.extra}]')"
            )

    def check_mode(self, mode: str | None) -> str:
        """Return ``mode`` (or the default mode) after checking it is one of this framework's."""
        if mode is None:
            return self.modes[0]
        if mode not in self.modes:
            raise PortabenchError(f"{self.name} has no mode {mode!r} (choose from {', '.join(self.modes)})")
        return mode

    def parse_device(self, text: str) -> DeviceSpec:
        """Read a device string of this framework (``cuda:1``, ``gpu+soft``, ``/device:GPU:0``).

        Only the spelling is checked, not whether the device exists (the worker's adapter does that).
        Raises :class:`PortabenchError` for a string that is no device spelling or carries a flag the
        framework does not know.
        """
        base, *flags = text.strip().lower().split("+")
        match = _DEVICE_RE.match(base)
        if not match:
            raise PortabenchError(f"{text!r} is not a {self.name} device string (e.g. cpu, cuda, gpu:1)")
        unknown = [f for f in flags if f not in self.device_flags]
        if unknown:
            known = f" (it knows {', '.join('+' + f for f in self.device_flags)})" if self.device_flags else ""
            raise PortabenchError(f"{self.name} has no device flag {'+' + unknown[0]!r} in {text!r}{known}")
        kind = self.device_kind_aliases.get(match.group(1), match.group(1))
        index = int(match.group(2)) if match.group(2) is not None else None
        return DeviceSpec(text=text, kind=kind, index=index, flags=tuple(flags))

    def device_kind(self, text: str) -> str:
        """The kind of a device string (``cuda:1`` -> ``cuda``)."""
        return self.parse_device(text).kind

    def paper_preset(self) -> list[str]:
        """The function names the paper sampled for this framework (shipped in the package)."""
        import json

        path = resources.files("portabench.data") / "presets" / f"paper_{self.name}.json"
        if not path.is_file():
            raise PortabenchError(f"no paper preset is shipped for {self.name}")
        return list(json.loads(path.read_text())["functions"])


#: C++ log level of the TensorFlow/XLA runtime (TSL logging; torch_xla and jaxlib honour it too): its warnings
#: and INFO lines would fill the worker's log tail that failures keep
QUIET_XLA_LOGS = {"TF_CPP_MIN_LOG_LEVEL": "2"}

FRAMEWORKS: dict[str, FrameworkEntry] = {
    "torch": FrameworkEntry(
        name="torch",
        import_name="torch",
        adapter="portabench.frameworks.torch_adapter:TorchAdapter",
        # compile: torch.compile (Dynamo + Inductor); export: torch.export.export, then the exported program
        modes=("eager", "compile", "export"),
        mining_roots=("torch",),
        extra="torch",
        visible_devices_env={"cuda": "CUDA_VISIBLE_DEVICES"},
        worker_env=QUIET_XLA_LOGS,  # torch_xla
        timeless_devices=("meta",),
        study_devices=("meta",),
        expected_targets=("cuda", "mps", "xla"),
        aliases=("pytorch",),
        method_owner="Tensor",
        array_types=("torch.Tensor", "torch.FloatTensor", "torch.LongTensor", "torch.BoolTensor", "torch.nn.Parameter"),
        method_functions=("torch",),
    ),
    "jax": FrameworkEntry(
        name="jax",
        import_name="jax",
        adapter="portabench.frameworks.jax_adapter:JaxAdapter",
        modes=("eager", "jit"),
        mining_roots=("jax",),
        extra="jax",
        visible_devices_env={"gpu": "CUDA_VISIBLE_DEVICES"},
        # JAX takes 75% of GPU memory at start-up by default: a second worker on the same GPU
        # (--workers, or another run) could then not start. Small cases need no preallocation.
        worker_env={"XLA_PYTHON_CLIENT_PREALLOCATE": "false", **QUIET_XLA_LOGS},
        expected_targets=("gpu", "tpu"),
        device_kind_aliases={"cuda": "gpu", "rocm": "gpu"},  # as the JAX adapter reads them
        method_owner="Array",
        array_types=("jax.Array", "jax.numpy.ndarray", "jax.typing.ArrayLike"),
        method_functions=("jax.numpy",),
    ),
    "tensorflow": FrameworkEntry(
        name="tensorflow",
        import_name="tensorflow",
        adapter="portabench.frameworks.tensorflow_adapter:TensorFlowAdapter",
        modes=("eager", "function", "xla"),
        mining_roots=("tensorflow",),
        extra="tensorflow",
        visible_devices_env={"gpu": "CUDA_VISIBLE_DEVICES"},
        worker_env=QUIET_XLA_LOGS,
        expected_targets=("gpu", "tpu"),
        aliases=("tf",),
        method_owner="Tensor",
        array_types=("tensorflow.Tensor", "tensorflow.Variable"),
        method_functions=("tensorflow", "tensorflow.math"),
        device_flags=("soft",),
        device_kind_aliases={"cuda": "gpu"},  # users coming from torch
    ),
}


def _aliases() -> dict[str, str]:
    return {alias: entry.name for entry in FRAMEWORKS.values() for alias in entry.aliases}


def canonical_name(name: str) -> str | None:
    """The registered name of framework ``name`` or one of its aliases (any case); None when unknown."""
    key = name.strip().lower()
    key = _aliases().get(key, key)
    return key if key in FRAMEWORKS else None


def register_framework(entry: FrameworkEntry) -> None:
    """Add (or replace) a framework entry: a plugin's adapter, or the test suite's numpy-only fake.

    Its ``adapter`` is a path (``module:Class`` or ``/path/to/file.py:Class``) that workers load.
    """
    FRAMEWORKS[entry.name] = entry


def get_framework(name: str) -> FrameworkEntry:
    """Look a framework up by name or alias; unknown names raise :class:`PortabenchError`."""
    key = canonical_name(name)
    if key is None:
        raise PortabenchError(f"unknown framework {name!r} (choose from {', '.join(FRAMEWORKS)})")
    return FRAMEWORKS[key]


def timeless_devices(name: str) -> tuple[str, ...]:
    """The device kinds of framework ``name`` that do no computation; () for an unknown framework."""
    key = canonical_name(name)
    return FRAMEWORKS[key].timeless_devices if key is not None else ()


#: how device strings of a framework the registry does not know are read (stored runs of a plugin, imported data)
_GENERIC = FrameworkEntry(name="(any framework)", import_name="", adapter="", modes=("eager",), mining_roots=(),
                          extra="", device_flags=("soft",))


def device_kind(text: str, framework: str | None = None) -> str:
    """The device kind of a device string, as the framework's entry reads it (``cuda:1`` -> ``cuda``,
    ``/device:GPU:0+soft`` -> ``gpu``); any framework's spelling when ``framework`` is None or unknown.

    For stored and imported strings: never raises; a string no entry can read gives the text before its
    first ``+`` and ``:`` (``"unknown"`` when empty).
    """
    key = canonical_name(framework) if framework else None
    entry = FRAMEWORKS[key] if key is not None else _GENERIC
    try:
        return entry.parse_device(text).kind
    except PortabenchError:
        return text.split("+")[0].split(":")[0].strip() or "unknown"


def installed_frameworks() -> list[FrameworkEntry]:
    return [f for f in FRAMEWORKS.values() if f.is_installed()]
