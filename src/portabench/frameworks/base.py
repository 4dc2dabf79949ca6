"""The worker-side adapter interface every framework implements: one skeleton, framework hooks.

An adapter lives inside a worker process (it imports its framework at
construction) and knows how to: describe itself, walk its public API, list
cases, rebuild a case's inputs on a device, bring outputs back to the host as
plain numpy data, and time calls on its device. The runner only speaks these
methods, so adding a framework or a device never touches the runner.

:class:`Adapter` holds the parts every framework shares, once, as template
methods: :meth:`~Adapter.list_cases` (names, missing / no-cases, merging claimed
dtypes, the ``max_samples`` rule, spec cases and their modes),
:meth:`~Adapter.prepare` (spec cases loaded and cached, metadata sources looked
up), :meth:`~Adapter.to_host` (the walk over nested outputs),
:meth:`~Adapter.info` / :meth:`~Adapter.numerics` and the context-poisoning check
(:meth:`~Adapter.needs_restart`). A framework supplies only hooks:

* description: :meth:`~Adapter.framework_version`, :meth:`~Adapter.device_kind`,
  :meth:`~Adapter.device_name`, :meth:`~Adapter.numeric_switches`,
  :meth:`~Adapter.mode_numerics`, :attr:`~Adapter.poisoning_messages`;
* case sources (its test metadata): :meth:`~Adapter.case_sources`,
  :meth:`~Adapter.source_key`, :meth:`~Adapter.source_in_mode`,
  :meth:`~Adapter.claim_device_types`, :meth:`~Adapter.claimed_dtypes`,
  :meth:`~Adapter.sample_count`, :meth:`~Adapter.case_descriptor`,
  :meth:`~Adapter.prepare_source`, :meth:`~Adapter.resolve_name`,
  :meth:`~Adapter.canonical_name`;
* spec cases: :meth:`~Adapter.prepare_spec`, :meth:`~Adapter.spec_case_extra`
  (and ``from_numpy`` / ``spec_namespace`` for :mod:`.spec_cases`);
* other case kinds (whole models): :meth:`~Adapter.split_models`;
* host copies: :meth:`~Adapter.host_array`, :meth:`~Adapter.host_other`;
* modes: :meth:`~Adapter.execute`, :meth:`~Adapter.compile_info`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from portabench.cases import DEFAULT_MAX_SAMPLES, CaseDescriptor
from portabench.frameworks.spec_cases import spec_descriptors
from portabench.frameworks.timer import Timer
from portabench.specs import SpecFunction, builtin_spec_files, load_specs


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


#: what :meth:`Adapter.host_array` returns for a value that is none of the framework's arrays
UNHANDLED: Any = object()

#: plain Python values an output may hold; copied to the host as they are
PLAIN_VALUES = (bool, int, float, complex, str, type(None))


class Adapter(ABC):
    """Base class of framework adapters (one instance per worker process).

    Rules the skeleton applies to every framework (docs/cases.md): ``max_samples``
    caps the samples of each function, case source and dtype (a spec case is its own
    source with one sample, so spec cases are never cut by it); a spec case runs in the
    modes its ``modes`` key names (the case's, else its function's; default every mode);
    claimed dtypes are merged over a function's sources per device type.
    """

    #: canonical framework name, as in :data:`portabench.frameworks.FRAMEWORKS`
    name: str = ""
    #: substrings of an error message after which the device is unusable in this process (a poisoned CUDA
    #: context, a failed device sync): :meth:`needs_restart` then asks for a fresh worker
    poisoning_messages: tuple[str, ...] = ()
    #: outputs nested deeper than this are described by type, not walked (None: no limit)
    host_depth_limit: int | None = None
    #: True: a name the installed framework lacks is ``missing`` even when a spec gives it cases
    #: (TensorFlow's specs test its own API); False: a spec may name any function (a user's op)
    names_must_resolve: bool = False

    def __init__(self, device: str, mode: str, reference: str | None) -> None:
        """Resolve ``device`` (raise :class:`DeviceUnavailable` if unusable) and set ``mode``."""
        self.device = device
        self.mode = mode
        self.reference = reference
        #: samples per source and dtype that a worker which did not list the cases generates (set by list_cases)
        self.max_samples = DEFAULT_MAX_SAMPLES
        self._specs: dict[str, list[SpecFunction]] = {}  # canonical name -> spec functions loaded so far

    # -- description (template) ----------------------------------------------------
    def info(self) -> dict[str, Any]:
        """``{framework_version, device, device_kind, device_name, numerics: {...}}`` for the run record."""
        return {
            "framework_version": self.framework_version(),
            "device": self.device,
            "device_kind": self.device_kind(),
            "device_name": self.device_name(),
            "numerics": self.numerics(),
        }

    def numerics(self) -> dict[str, Any]:
        """The switches that change numerical results (:meth:`numeric_switches`), then the mode's
        (:meth:`mode_numerics`)."""
        return {**self.numeric_switches(), **self.mode_numerics()}

    def framework_version(self) -> str:
        """Hook: the installed framework's version."""
        raise NotImplementedError

    def device_kind(self) -> str:
        """Hook: the kind of this worker's device as the registry names it (``cpu``, ``cuda``, ``gpu``, ``tpu``)."""
        raise NotImplementedError

    def device_name(self) -> str:
        """Hook: the device's model name (the CPU's model on ``cpu``)."""
        raise NotImplementedError

    def numeric_switches(self) -> dict[str, Any]:
        """Hook: the framework's switches and environment that change numerical results (TF32, x64, threads...)."""
        return {}

    def mode_numerics(self) -> dict[str, Any]:
        """Hook: what the run's mode adds to the numerics; by default the mode's name."""
        return {"mode": self.mode}

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

    # -- cases (template) ----------------------------------------------------------
    def list_cases(
        self, functions: list[str] | None, dtypes: list[str], specs: list[str], max_samples: int
    ) -> CaseListing:
        """Cases for ``functions`` (None: every function with cases) in ``dtypes``.

        Dtypes are intersected with what the framework claims for the reference
        device type. ``specs`` are extra spec files (see docs/cases.md). The
        built-in and given spec files replace the specs loaded so far, and
        ``max_samples`` becomes the worker's sample count for later ``prepare``.
        """
        self._specs = {}
        self._add_specs(builtin_spec_files(self.name) + list(specs))
        self.max_samples = max_samples
        functions, models = self.split_models(functions)
        if functions is None:
            names = sorted(set(self.source_names()) | set(self._specs))
        else:
            names = list(dict.fromkeys(self.canonical_name(f) for f in functions))
        listing = CaseListing(cases=[])
        for name in names:
            self._list_function(listing, name, dtypes, max_samples)
        listing.cases += models
        return listing

    def _list_function(self, listing: CaseListing, name: str, dtypes: list[str], max_samples: int) -> None:
        """Add one function's cases (or its name to ``missing`` / ``no_cases``) to ``listing``."""
        sources, spec_fns = self.case_sources(name), self._specs.get(name, [])
        if self.names_must_resolve or (not sources and not spec_fns):
            if self.resolve_name(name) is None:
                listing.missing.append(name)
                return
        found: list[CaseDescriptor] = []
        reference_type = self.reference_device_type()
        device_types = self.claim_device_types()
        for source in sources:
            if not self.source_in_mode(source):
                continue
            claimed = listing.claimed.setdefault(name, {})
            for device_type in device_types:
                merged = set(claimed.get(device_type, [])) | (self.claimed_dtypes(source, device_type) - {"none"})
                claimed[device_type] = sorted(merged)
            reference_claims = self.claimed_dtypes(source, reference_type)
            chosen = ["none"] if reference_claims == {"none"} else [d for d in dtypes if d in reference_claims]
            for dtype in chosen:
                count = min(self.sample_count(source, dtype, max_samples), max_samples)
                found += [self.case_descriptor(name, source, dtype, index) for index in range(count)]
        for fn in spec_fns:
            found += spec_descriptors([fn], dtypes, self.mode, self.spec_case_extra(fn))
        if found:
            listing.cases += found
        else:
            listing.no_cases.append(name)

    def functions_with_cases(self, specs: list[str]) -> list[str]:
        """Qualified names that have at least one case source (used to draw samples).

        The default lists every case in float32; adapters override it with
        something cheaper when they can.
        """
        return sorted({c.function for c in self.list_cases(None, ["float32"], specs, 1).cases})

    def prepare(self, case: CaseDescriptor, device: str) -> Prepared:
        """Rebuild the case's inputs on ``device``; the result's ``call()`` calls the function once.

        Inputs are generated deterministically from the case id (same values on
        every device). ``call`` may be called many times (timing). A spec case's
        file is loaded (and kept) when this worker has not loaded it yet; other
        cases are rebuilt from their metadata source (:meth:`prepare_source`).
        """
        if case.source.startswith("spec:"):
            return self.prepare_spec(self.spec_function(case), case, device)
        source = next((s for s in self.case_sources(case.function) if self.source_key(s) == case.source), None)
        if source is None:
            raise LookupError(f"no case source {case.source} for {case.function} in {self.name} "
                              f"{self.framework_version()}")
        return self.prepare_source(source, case, device)

    def spec_function(self, case: CaseDescriptor) -> SpecFunction:
        """The spec function a spec case comes from, loading its file if this worker has not yet."""
        spec_file = case.extra["spec_file"]
        if all(f.file != spec_file for f in self._specs.get(case.function, [])):
            self._add_specs([spec_file])
        return next(f for f in self._specs[case.function] if f.file == spec_file)

    def _add_specs(self, refs: list[str]) -> None:
        """Load spec files into the cache (by canonical name); a file loaded again replaces its functions."""
        for name, fns in load_specs(self.name, refs).items():
            key = self.canonical_name(name)
            files = {f.file for f in fns}
            self._specs[key] = [f for f in self._specs.get(key, []) if f.file not in files] + fns

    # -- case hooks ----------------------------------------------------------------
    def source_names(self) -> list[str]:
        """Hook: every name the framework's metadata has cases for (listed when no names are given)."""
        return []

    def case_sources(self, name: str) -> list[Any]:
        """Hook: the framework's metadata case sources of ``name`` (spec cases are the skeleton's)."""
        return []

    def source_key(self, source: Any) -> str:
        """Hook: a source's key, the ``source`` part of its case ids."""
        return str(source.key)

    def source_in_mode(self, source: Any) -> bool:
        """Hook: whether ``source`` applies to this adapter's mode (torch export: no optimizer steps)."""
        return True

    def reference_device_type(self) -> str:
        """Hook: the device type whose claimed dtypes choose the cases' dtypes."""
        return self.device_kind()

    def claim_device_types(self) -> list[str]:
        """Hook: the device types whose claimed dtypes the listing records (reference and target)."""
        return list(dict.fromkeys([self.reference_device_type(), self.device_kind()]))

    def claimed_dtypes(self, source: Any, device_type: str) -> set[str]:
        """Hook: the dtypes ``source`` claims on ``device_type`` (``{"none"}``: its cases have no dtype)."""
        raise NotImplementedError

    def sample_count(self, source: Any, dtype: str, max_samples: int) -> int:
        """Hook: how many samples ``source`` has in ``dtype``, at most ``max_samples`` needed (0: none can be made)."""
        raise NotImplementedError

    def case_descriptor(self, name: str, source: Any, dtype: str, sample: int) -> CaseDescriptor:
        """Hook: the descriptor of sample ``sample`` of ``source`` in ``dtype``."""
        return CaseDescriptor(name, self.source_key(source), dtype, sample, bool(getattr(source, "random", False)))

    def prepare_source(self, source: Any, case: CaseDescriptor, device: str) -> Prepared:
        """Hook: rebuild a metadata case on ``device`` (see :meth:`prepare`)."""
        raise NotImplementedError

    def prepare_spec(self, fn: SpecFunction, case: CaseDescriptor, device: str) -> Prepared:
        """Hook: rebuild a spec case on ``device`` (usually through :mod:`.spec_cases`)."""
        raise NotImplementedError

    def spec_case_extra(self, fn: SpecFunction) -> dict[str, Any]:
        """Hook: adapter data added to the ``extra`` of ``fn``'s cases (JAX: ``jit = false``)."""
        return {}

    def resolve_name(self, name: str) -> Any | None:
        """Hook: the object a qualified name refers to in the installed framework, None if it has none."""
        return None

    def canonical_name(self, name: str) -> str:
        """Hook: the name cases are listed under (TensorFlow: ``tf.`` spelled ``tensorflow.``)."""
        return name

    def split_models(self, functions: list[str] | None) -> tuple[list[str] | None, list[CaseDescriptor]]:
        """Hook for whole-model cases: (function names, the cases of the model names among ``functions``).

        Model names (``hf:gpt2``) are taken out of ``functions``; their cases come
        after the functions' cases. The default has no models.
        """
        return functions, []

    @abstractmethod
    def seed(self, seed: int) -> None:
        """Seed the framework's global random state (used to detect random outputs)."""

    def rng_state(self) -> object:
        """A snapshot of the framework's global random state (None: it has none).

        A call that changes it consumes randomness, so its outputs are compared by
        properties; this catches ops that reseed internally, which the two-seed
        check cannot see.
        """
        return None

    # -- host copies (template) ------------------------------------------------------
    def to_host(self, output: Any) -> Any:
        """Turn an output into a pytree (lists/dicts) of :class:`HostLeaf` and plain Python values.

        Framework arrays first (:meth:`host_array`), then lists and tuples (as
        lists), dicts (string keys) and plain values, then anything else
        (:meth:`host_other`).
        """
        return self._host(output, 0)

    def _host(self, output: Any, depth: int) -> Any:
        if self.host_depth_limit is not None and depth > self.host_depth_limit:
            return f"<{type(output).__name__}>"

        def walk(value: Any) -> Any:
            return self._host(value, depth + 1)

        leaf = self.host_array(output, walk)
        if leaf is not UNHANDLED:
            return leaf
        if isinstance(output, (list, tuple)):
            return [walk(v) for v in output]
        if isinstance(output, dict):
            return {str(k): walk(v) for k, v in output.items()}
        if isinstance(output, PLAIN_VALUES):
            return output
        return self.host_other(output, walk)

    def host_array(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        """Hook: ``output`` as a :class:`HostLeaf` (or other host data) if it is one of the framework's
        arrays, else :data:`UNHANDLED`. ``walk`` copies nested values."""
        return UNHANDLED

    def host_other(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        """Hook: a value that is no array, container or plain value (dtypes, modules, pytrees);
        by default its type name."""
        return f"<{type(output).__name__}>"

    @abstractmethod
    def placement_error(self, output: Any, device: str) -> str | None:
        """A message if some output array does not live on ``device`` (silent fallback), else None."""

    @abstractmethod
    def timer(self, device: str) -> Timer:
        """A timer whose ``sync()`` waits for all queued work on ``device``."""

    def needs_restart(self, message: str) -> bool:
        """True when an error leaves the device unusable in this process: ``message`` contains one of
        :attr:`poisoning_messages` (e.g. a poisoned CUDA context)."""
        return any(p in message for p in self.poisoning_messages)

    def after_failure(self) -> None:  # noqa: B027 - an optional hook; doing nothing is the default
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

    def restore_global_switches(self, switches: dict[str, Any]) -> None:  # noqa: B027 - optional hook, as above
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
