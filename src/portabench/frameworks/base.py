"""The worker-side adapter interface every framework implements.

An adapter lives inside a worker process (it imports its framework at
construction) and knows how to: describe itself, walk its public API, list
cases, rebuild a case's inputs on a device, bring outputs back to the host as
plain numpy data, and time calls on its device. Everything framework-specific
is here; the runner only speaks these methods, so adding a framework or a
device never touches the runner.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from portabench.cases import CaseDescriptor
from portabench.runner.timing import Timer


class DeviceUnavailable(Exception):
    """The requested device string does not name a device this process can use."""


@dataclass
class HostLeaf:
    """One output array brought back to the host.

    ``values`` is None when the device holds no data (torch's ``meta``); such a
    leaf is compared by shape and dtype only. ``dtype`` is the framework's dtype
    name in numpy spelling (``bfloat16`` arrays are widened to float32 values but
    keep ``dtype='bfloat16'``). ``device`` is where the framework says the output lives.
    """

    dtype: str
    shape: tuple[int, ...]
    values: np.ndarray | None
    device: str


@dataclass
class Prepared:
    """A case ready to run on one device: ``call()`` runs the function once.

    ``postprocess`` maps an output to what is compared (e.g. fixing the sign
    ambiguity of singular vectors); it is applied outside timing.
    """

    call: Callable[[], Any]
    postprocess: Callable[[Any], Any] = lambda out: out
    compile_ns: int | None = None  # set by adapters that compile ahead of the first call (jit modes)


@dataclass
class CaseListing:
    """What ``list_cases`` returns.

    ``missing``: requested names that do not exist in the installed framework;
    ``no_cases``: names that exist but have no case source;
    ``claimed[function][device_type]``: dtypes the framework's metadata claims.
    """

    cases: list[CaseDescriptor]
    missing: list[str] = field(default_factory=list)
    no_cases: list[str] = field(default_factory=list)
    claimed: dict[str, dict[str, list[str]]] = field(default_factory=dict)


class Adapter(ABC):
    """Base class of framework adapters (one instance per worker process)."""

    #: canonical framework name, as in :data:`portabench.frameworks.FRAMEWORKS`
    name: str = ""

    def __init__(self, device: str, mode: str, reference: str | None) -> None:
        """Resolve ``device`` (raise :class:`DeviceUnavailable` if unusable) and set ``mode``."""
        self.device = device
        self.mode = mode
        self.reference = reference

    # -- description -------------------------------------------------------------
    @abstractmethod
    def info(self) -> dict[str, Any]:
        """``{framework_version, device, device_kind, device_name, numerics: {...}}`` for the run record."""

    @abstractmethod
    def api(self) -> list[dict[str, str]]:
        """The public API: ``[{"qualname": ..., "kind": "function|class|method|module_function"}]``."""

    def available_devices(self) -> list[str]:
        """Device strings usable in this process (for ``study`` defaults)."""
        return ["cpu"]

    def device_count(self) -> int:
        """How many devices a run on this worker's device string may be spread over (one worker each).

        More than 1 only when the string names a kind without an index
        (``cuda``, ``gpu``) and this process sees several devices of it; the
        runner then pins one worker per device with the registry's
        ``visible_devices_env``.
        """
        return 1

    # -- cases -------------------------------------------------------------------
    @abstractmethod
    def list_cases(
        self, functions: list[str] | None, dtypes: list[str], specs: list[str], max_samples: int
    ) -> CaseListing:
        """Cases for ``functions`` (None: every function with cases) in ``dtypes``.

        Dtypes are intersected with what the framework claims for the reference
        device type. ``specs`` are extra spec files (see docs/cases.md).
        """

    def functions_with_cases(self, specs: list[str]) -> list[str]:
        """Qualified names that have at least one case source (used to draw samples).

        The default lists every case in float32; adapters override it with
        something cheaper when they can.
        """
        return sorted({c.function for c in self.list_cases(None, ["float32"], specs, 1).cases})

    @abstractmethod
    def prepare(self, case: CaseDescriptor, device: str) -> Prepared:
        """Rebuild the case's inputs on ``device``; the result's ``call()`` calls the function once.

        Inputs are generated deterministically from the case id (same values on
        every device). ``call`` may be called many times (timing).
        """

    def rng_state(self) -> object:
        """A snapshot of the framework's global random state (None: it has none).

        A call that changes it consumes randomness, so its outputs are compared by
        properties; this catches ops that reseed internally, which the two-seed
        check cannot see.
        """
        return None

    @abstractmethod
    def seed(self, seed: int) -> None:
        """Seed the framework's global random state (used to detect random outputs)."""

    @abstractmethod
    def to_host(self, output: Any) -> Any:
        """Turn an output into a pytree (lists/dicts) of :class:`HostLeaf` and plain Python values."""

    @abstractmethod
    def placement_error(self, output: Any, device: str) -> str | None:
        """A message if some output array does not live on ``device`` (silent fallback), else None."""

    @abstractmethod
    def timer(self, device: str) -> Timer:
        """A timer whose ``sync()`` waits for all queued work on ``device``."""

    def needs_restart(self, message: str) -> bool:
        """True when an error leaves the device unusable in this process (e.g. a poisoned CUDA context)."""
        return False

    def after_failure(self) -> None:
        """Free what a failed case may have left (e.g. cached device memory after OOM)."""

    def execute(self, prepared: Prepared) -> Any:
        """Run a prepared case once in this adapter's mode (e.g. under jit); the default calls it.

        ``prepared.call()`` itself is always the eager call: the runner uses it for
        the reference and for the eager-on-the-same-device check of compiled modes.
        """
        return prepared.call()

    def compile_info(self, prepared: Prepared) -> dict[str, Any] | None:
        """What the compiler did for ``prepared`` in a compiled mode (JSON-ready), None otherwise.

        Keys the runner stores in their own columns: ``graph_breaks``, ``recompiles``, ``fallback``.
        """
        return None
