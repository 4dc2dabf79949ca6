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
from portabench.frameworks.timer import Timer


class DeviceUnavailable(Exception):
    """The requested device string does not name a device this process can use."""


#: device memory a case may leave allocated above the worker's baseline before it counts as a leak
#: (caches such as cuBLAS workspaces stay well below it; a leaked batch of tensors does not)
MEMORY_LEAK_THRESHOLD_BYTES = 256 << 20


@dataclass(frozen=True)
class Leftover:
    """Something a case left behind in its worker: a changed global switch, held memory, a stray thread.

    ``restored`` is True when the worker put things back (switch reset, child killed), so the
    next case may run in the same worker; False makes the worker recycle itself. The finding
    is recorded with the case that left it, never with the next one.
    """

    what: str
    restored: bool


@dataclass(frozen=True)
class StateBaseline:
    """What an adapter's global state looked like before any case ran (see :meth:`Adapter.leftovers`)."""

    switches: dict[str, Any]
    device_memory: int | None


def memory_leftover(baseline: int | None, now: int | None,
                    threshold: int = MEMORY_LEAK_THRESHOLD_BYTES) -> Leftover | None:
    """A finding when ``now`` bytes of device memory are held more than ``threshold`` above ``baseline``.

    Held memory cannot be given back from outside the case (a global reference keeps it), so
    the finding is never ``restored``: the worker recycles itself before the next case.
    """
    if baseline is None or now is None or now - baseline <= threshold:
        return None
    return Leftover(f"{(now - baseline) / 2**20:.0f} MiB of device memory still held after the case "
                    f"(worker baseline {baseline / 2**20:.0f} MiB)", restored=False)


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

    def list_models(self) -> list[dict[str, str]]:
        """The model architectures this adapter can build: ``[{name, family, size}]`` (see portabench.models)."""
        return []

    def run_model_case(self, case: CaseDescriptor, timing: Any, do_timing: bool) -> dict[str, Any]:
        """Run a whole-model case (source ``model:...``); a result like ``run_case``'s."""
        raise NotImplementedError(f"{self.name} has no whole-model cases")

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
    # -- what a case leaves behind -------------------------------------------------
    def global_switches(self) -> dict[str, Any]:
        """The framework's process-wide switches a case can change and that change later results
        (default dtype, grad mode, TF32/matmul precision, x64), as JSON-comparable values."""
        return {}

    def restore_global_switches(self, switches: dict[str, Any]) -> None:
        """Set back the switches named in ``switches`` (only those a case changed) to their values, as
        :meth:`global_switches` returned them; a switch that cannot be set back is left as it is (it is
        then reported as not restored and the worker recycles)."""

    def device_memory_in_use(self, collect: bool = True) -> int | None:
        """Bytes of device memory this process holds (after a garbage collection when ``collect``, which
        costs up to a few hundred ms in a worker holding a framework's test metadata); None where not
        measured (CPU)."""
        return None

    def own_child_processes(self) -> frozenset[int]:
        """Child processes the framework keeps across cases (a compile pool); others a case leaves are killed."""
        return frozenset()

    def state_baseline(self) -> StateBaseline:
        """The switches and device memory of a fresh worker, taken before its first case."""
        return StateBaseline(dict(self.global_switches()), self.device_memory_in_use())

    def leftovers(self, baseline: StateBaseline) -> list[Leftover]:
        """What the last case left behind compared with ``baseline``; changed switches are restored first.

        A template method over the three hooks above; a hook that raises is itself a finding
        (the worker cannot vouch for its state, so it recycles).
        """
        found: list[Leftover] = []
        try:
            now = self.global_switches()
            changed = {k: v for k, v in now.items() if baseline.switches.get(k) != v}
            if changed:
                self.restore_global_switches({k: baseline.switches.get(k) for k in changed})
                after = self.global_switches()
                for key, value in changed.items():
                    found.append(Leftover(f"{key} changed from {baseline.switches.get(key)!r} to {value!r}",
                                          restored=after.get(key) == baseline.switches.get(key)))
            # cheap probe first; only memory above the threshold pays for a garbage collection and is re-measured
            held = memory_leftover(baseline.device_memory, self.device_memory_in_use(collect=False))
            if held is not None:
                held = memory_leftover(baseline.device_memory, self.device_memory_in_use(collect=True))
            if held is not None:
                found.append(held)
        except Exception as exc:
            found.append(Leftover(f"state check failed: {type(exc).__name__}: {exc}", restored=False))
        return found
