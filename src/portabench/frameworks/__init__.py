"""The framework registry, safe to import in the parent process.

Nothing here imports a framework: the parent only knows each framework's name,
the module that tells whether it is installed, where its worker-side adapter
lives, its modes and the roots its usage miner resolves imports against.
Adapters themselves (``portabench.frameworks.<name>_adapter``) are imported only
inside worker processes. Adding a framework means adding an entry here and an
adapter module; the runner does not change.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

from portabench.errors import PortabenchError


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

    def paper_preset(self) -> list[str]:
        """The function names the paper sampled for this framework (shipped in the package)."""
        import json

        path = resources.files("portabench.data") / "presets" / f"paper_{self.name}.json"
        if not path.is_file():
            raise PortabenchError(f"no paper preset is shipped for {self.name}")
        return list(json.loads(path.read_text())["functions"])


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
        timeless_devices=("meta",),
        study_devices=("meta",),
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
        worker_env={"XLA_PYTHON_CLIENT_PREALLOCATE": "false"},
    ),
    "tensorflow": FrameworkEntry(
        name="tensorflow",
        import_name="tensorflow",
        adapter="portabench.frameworks.tensorflow_adapter:TensorFlowAdapter",
        modes=("eager", "function", "xla"),
        mining_roots=("tensorflow",),
        extra="tensorflow",
        visible_devices_env={"gpu": "CUDA_VISIBLE_DEVICES"},
    ),
}

ALIASES = {"pytorch": "torch", "tf": "tensorflow"}


def register_framework(entry: FrameworkEntry) -> None:
    """Add (or replace) a framework entry: a plugin's adapter, or the test suite's numpy-only fake.

    Its ``adapter`` is a path (``module:Class`` or ``/path/to/file.py:Class``) that workers load.
    """
    FRAMEWORKS[entry.name] = entry


def get_framework(name: str) -> FrameworkEntry:
    """Look a framework up by name or alias; unknown names raise :class:`PortabenchError`."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in FRAMEWORKS:
        raise PortabenchError(f"unknown framework {name!r} (choose from {', '.join(FRAMEWORKS)})")
    return FRAMEWORKS[key]


def timeless_devices(name: str) -> tuple[str, ...]:
    """The device kinds of framework ``name`` that do no computation; () for an unknown framework."""
    entry = FRAMEWORKS.get(ALIASES.get(name.lower(), name.lower()))
    return entry.timeless_devices if entry is not None else ()


def installed_frameworks() -> list[FrameworkEntry]:
    return [f for f in FRAMEWORKS.values() if f.is_installed()]
