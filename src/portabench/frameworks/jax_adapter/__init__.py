"""The JAX adapter (worker side: imports jax).

Devices: ``cpu``, ``gpu`` (``cuda`` is an alias), ``tpu`` and ``platform:index``
(``cpu:1``, ``gpu:0``); inputs are placed with ``jax.device_put`` and calls run
under ``jax.default_device`` so that functions without array inputs
(``jnp.zeros``) land there too. Modes: ``eager`` runs the call op by op under
``jax.disable_jit()`` (as the paper ran JAX); ``jit`` compiles the call with
``jax.jit(fn).lower(*inputs).compile()`` (array inputs are arguments, static
values are closed over) and times the compiled executable. ``jax_enable_x64`` is
switched on in the worker so float64/complex128 cases stay 64-bit; it is
recorded in ``info()["numerics"]``.

Case sources (see :mod:`.sources`): JAX's own ``lax_test_util`` op records,
generated NumPy/SciPy-counterpart cases, and the declarative specs
``data/specs/jax*.toml``.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from portabench.cases import CaseDescriptor
from portabench.frameworks.base import UNHANDLED, Adapter, DeviceUnavailable, HostLeaf, Prepared
from portabench.frameworks.host import cpu_name, nested_leaves
from portabench.frameworks.jax_adapter import state
from portabench.frameworks.jax_adapter.api import resolve, walk_api
from portabench.frameworks.jax_adapter.sources import Sample, Source, build_index
from portabench.specs import ArrayInput, SpecFunction, generate_inputs

jax.config.update("jax_enable_x64", True)  # float64 inputs stay float64 (recorded in numerics)

#: device-string platform aliases
ALIASES = {"cuda": "gpu", "rocm": "gpu"}
#: messages after which the accelerator is unusable in this process
POISONING = ("CUDA_ERROR_ILLEGAL_ADDRESS", "illegal memory access", "CUDA_ERROR_LAUNCH_FAILED", "device-side assert")


def parse_device(spec: str) -> jax.Device:
    """``cpu``, ``gpu``, ``cuda``, ``tpu``, ``platform:index`` -> a :class:`jax.Device` (or DeviceUnavailable)."""
    name, _, index_text = spec.strip().lower().partition(":")
    plat = ALIASES.get(name, name)
    try:
        index = int(index_text) if index_text else 0
    except ValueError:
        raise DeviceUnavailable(
            f"bad JAX device {spec!r}: expected platform or platform:index (cpu, gpu:0, tpu:1)"
        ) from None
    try:
        devices = jax.devices(plat)
    except RuntimeError:
        raise DeviceUnavailable(
            f"JAX {jax.__version__} has no {plat} backend on this machine (backends: {', '.join(_backends())})"
        ) from None
    if not 0 <= index < len(devices):
        hint = " (more host devices: XLA_FLAGS=--xla_force_host_platform_device_count=N)" if plat == "cpu" else ""
        raise DeviceUnavailable(f"JAX has {len(devices)} {plat} device(s), no {plat}:{index}{hint}")
    return devices[index]


def _backends() -> list[str]:
    out = []
    for plat in ("cpu", "gpu", "tpu"):
        try:
            jax.devices(plat)
            out.append(plat)
        except RuntimeError:
            continue
    return out


def device_label(device: Any) -> str:
    return f"{device.platform}:{device.id}"


class JaxTimer:
    """perf_counter timing; ``sync(out)`` is ``jax.block_until_ready(out)`` (JAX dispatch is asynchronous)."""

    def now(self) -> int:
        return time.perf_counter_ns()

    def sync(self, last_output: Any = None) -> None:
        if last_output is None:
            return
        try:
            jax.block_until_ready(last_output)
        except Exception:  # outputs that hold no arrays (strings, jaxprs)
            pass


@dataclass
class JaxPrepared(Prepared):
    """A prepared case that the adapter can also jit: ``fn(*inputs)`` is the call; ``jit=False`` runs it plainly."""

    fn: Callable[..., Any] = lambda *inputs: None
    inputs: tuple = ()
    device: Any = None
    jit: bool = True
    compiled: Any = None
    compile_ns: int | None = None


def _is_input(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, np.ndarray) for v in value)


def bind_sample(fn: Callable, sample: Sample) -> tuple[Callable, list[Any]]:
    """Split a sample into array inputs (arguments) and static values (closed over): ``(f, inputs)``."""
    slots = [("a", i) for i, v in enumerate(sample.args) if _is_input(v)]
    slots += [("k", k) for k, v in sample.kwargs.items() if _is_input(v)]
    inputs = [sample.args[k] if t == "a" else sample.kwargs[k] for t, k in slots]

    def f(*values: Any) -> Any:
        args, kwargs = list(sample.args), dict(sample.kwargs)
        for (t, k), v in zip(slots, values, strict=False):
            if t == "a":
                args[k] = v
            else:
                kwargs[k] = v
        return fn(*args, **kwargs)

    return f, inputs




class JaxAdapter(Adapter):
    name = "jax"
    poisoning_messages = POISONING

    def __init__(self, device: str, mode: str, reference: str | None) -> None:
        super().__init__(device, mode, reference)
        self.jax_device = parse_device(device)
        if reference:
            parse_device(reference)
        self._index: dict[str, list[Source]] | None = None

    def device_count(self) -> int:
        dev = self.jax_device
        return len(jax.devices(dev.platform)) if dev.platform != "cpu" and ":" not in self.device else 1

    # -- description hooks ---------------------------------------------------------
    def framework_version(self) -> str:
        return str(jax.__version__)

    def device_kind(self) -> str:
        return str(self.jax_device.platform)

    def device_name(self) -> str:
        dev = self.jax_device
        return cpu_name() if dev.platform == "cpu" else str(dev.device_kind)

    def numeric_switches(self) -> dict[str, Any]:
        """Switches that change numerical results: matmul precision, x64, platform, XLA flags."""
        import jaxlib

        dev = self.jax_device
        cfg: Any = jax.config  # its options are attributes set at run time
        return {
            "jax_default_matmul_precision": cfg.jax_default_matmul_precision,
            "jax_enable_x64": bool(cfg.jax_enable_x64),
            "jax_numpy_dtype_promotion": cfg.jax_numpy_dtype_promotion,
            "jax_default_prng_impl": cfg.jax_default_prng_impl,
            "jax_threefry_partitionable": bool(cfg.jax_threefry_partitionable),
            "jaxlib_version": getattr(jaxlib, "__version__", None),
            "platform": dev.platform,
            "platform_version": getattr(dev.client, "platform_version", None),
            "device_kind": dev.device_kind,
            "device_count": len(jax.devices(dev.platform)),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
            "XLA_PYTHON_CLIENT_PREALLOCATE": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
        }

    def api(self) -> list[dict[str, str]]:
        return walk_api()

    def available_devices(self) -> list[str]:
        devices = ["cpu"]
        for plat in ("gpu", "tpu"):
            try:
                found = jax.devices(plat)
            except RuntimeError:
                continue
            devices += [plat] if len(found) == 1 else [f"{plat}:{i}" for i in range(len(found))]
        return devices

    # -- case hooks ------------------------------------------------------------------
    @property
    def index(self) -> dict[str, list[Source]]:
        if self._index is None:
            self._index = build_index()
        return self._index

    def source_names(self) -> list[str]:
        return list(self.index)

    def case_sources(self, name: str) -> list[Source]:
        return self.index.get(name, [])

    def reference_device_type(self) -> str:
        return str(parse_device(self.reference).platform) if self.reference else self.device_kind()

    def claimed_dtypes(self, source: Source, device_type: str) -> set[str]:
        return source.claimed()

    def sample_count(self, source: Source, dtype: str, max_samples: int) -> int:
        try:
            return len(source.samples(dtype, max_samples))
        except Exception:  # a generator that cannot make this dtype
            return 0

    def case_descriptor(self, name: str, source: Source, dtype: str, sample: int) -> CaseDescriptor:
        return CaseDescriptor(name, source.key, dtype, sample, source.random, {} if source.jit else {"jit": False})

    def spec_case_extra(self, fn: SpecFunction) -> dict[str, Any]:
        return {} if fn.jit else {"jit": False}  # the spec says: run outside jit

    def resolve_name(self, name: str) -> Any | None:
        return resolve(name)

    def prepare_source(self, source: Source, case: CaseDescriptor, device: str) -> Prepared:
        samples = source.samples(case.dtype, max(case.sample + 1, self.max_samples))
        f, inputs = bind_sample(source.function(), samples[case.sample])
        return self._prepared(f, inputs, parse_device(device), case.extra.get("jit", True))

    def _prepared(self, f: Callable, inputs: list[Any], dev: Any, jit: bool) -> JaxPrepared:
        placed = tuple(jax.device_put(v, dev) for v in inputs)

        def eager() -> Any:
            with jax.disable_jit(), jax.default_device(dev):
                return f(*placed)

        return JaxPrepared(call=eager, fn=f, inputs=placed, device=dev, jit=jit)

    def prepare_spec(self, fn: SpecFunction, case: CaseDescriptor, device: str) -> JaxPrepared:
        dev = parse_device(device)
        spec_case = fn.cases[case.sample]
        generated = generate_inputs(spec_case, case.case_id, case.dtype)
        namespace = dict(self.spec_namespace(device_label(dev), case.dtype))
        names = [n for n, v in generated.items() if isinstance(v, ArrayInput)]
        for name, value in generated.items():
            namespace[name] = self.from_numpy(value, device_label(dev)) if isinstance(value, ArrayInput) else value
        with jax.default_device(dev):
            for code in (fn.setup, spec_case.setup):
                if code:
                    exec(compile(code, fn.file, "exec"), namespace)
        compiled = compile(spec_case.call, fn.file, "eval")

        def f(*values: Any) -> Any:
            local = dict(namespace)
            local.update(zip(names, values, strict=False))
            return eval(compiled, local)

        placed = tuple(namespace[n] for n in names)

        def eager() -> Any:
            with jax.disable_jit(), jax.default_device(dev):
                return f(*placed)

        return JaxPrepared(call=eager, fn=f, inputs=placed, device=dev, jit=case.extra.get("jit", True))

    # -- specs hooks ---------------------------------------------------------------
    def from_numpy(self, array: ArrayInput, device: str) -> jax.Array:
        values = np.asarray(array.values).astype(jnp.dtype(array.dtype))
        return jax.device_put(values, parse_device(device))

    def spec_namespace(self, device: str, dtype: str) -> dict[str, Any]:
        import jax.lax as lax
        import jax.random as jr
        import jax.tree_util as tree_util

        dev = parse_device(device)
        return {
            "jax": jax, "jnp": jnp, "lax": lax, "random": jr, "tree_util": tree_util, "np": np,
            "device": dev, "dtype": jnp.dtype(dtype if dtype != "none" else "float32"),
            "pmap_devices": [dev],
        }

    # -- execution -------------------------------------------------------------------
    def execute(self, prepared: Prepared) -> Any:
        if self.mode != "jit" or not isinstance(prepared, JaxPrepared) or not prepared.jit:
            if self.mode == "jit" and isinstance(prepared, JaxPrepared):  # jit=False: a plain call, outside jit
                with jax.default_device(prepared.device):
                    return prepared.fn(*prepared.inputs)
            return prepared.call()
        with jax.default_device(prepared.device):
            if prepared.compiled is None:
                start = time.perf_counter_ns()
                prepared.compiled = jax.jit(prepared.fn).lower(*prepared.inputs).compile()
                prepared.compile_ns = time.perf_counter_ns() - start
            return prepared.compiled(*prepared.inputs)

    def seed(self, seed: int) -> None:
        np.random.seed(seed % (2**32))

    def host_array(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if isinstance(output, jax.Array):
            dtype = output.dtype
            device = ",".join(sorted(device_label(d) for d in output.devices()))
            if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
                data = np.asarray(jax.random.key_data(output))
                return HostLeaf(str(dtype), tuple(output.shape), data, device)
            values = np.asarray(output)
            if dtype == jnp.bfloat16:
                values = values.astype(np.float32)
            return HostLeaf(np.dtype(dtype).name, tuple(output.shape), values, device)
        if isinstance(output, (np.ndarray, np.generic)):
            values = np.asarray(output)
            name = values.dtype.name
            if values.dtype == jnp.bfloat16:
                values = values.astype(np.float32)
            return HostLeaf(name, tuple(values.shape), values, "host")
        return UNHANDLED

    def host_other(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if isinstance(output, (np.dtype, type)) or type(output).__name__ in ("PyTreeDef", "ClosedJaxpr", "Jaxpr"):
            return str(output)
        leaves = jax.tree_util.tree_leaves(output)
        if leaves and not (len(leaves) == 1 and leaves[0] is output):
            return {"type": type(output).__name__, "leaves": [walk(v) for v in leaves]}
        return f"<{type(output).__name__}>"

    def placement_error(self, output: Any, device: str) -> str | None:
        want = parse_device(device)
        for leaf in _arrays(output):
            where = leaf.devices()
            if where != {want}:
                got = ", ".join(sorted(device_label(d) for d in where))
                return f"result on {got}, requested {device_label(want)}"
        return None

    def timer(self, device: str) -> JaxTimer:
        return JaxTimer()

    def after_failure(self) -> None:
        gc.collect()

    # leftover hooks (frameworks/base.py): JAX's configuration and device memory, in state.py
    def global_switches(self) -> dict[str, Any]:
        return state.global_switches()

    def restore_global_switches(self, switches: dict[str, Any]) -> None:
        state.restore(switches)

    def device_memory_in_use(self, collect: bool = True) -> int | None:
        return state.device_memory_in_use(self.jax_device, collect=collect)


def _arrays(output: Any) -> Iterator[jax.Array]:
    for v in nested_leaves(output):
        if isinstance(v, jax.Array):
            yield v
        elif not isinstance(v, (str, bytes, int, float, complex, bool, type(None), np.ndarray, np.generic)):
            try:  # another pytree (a NamedTuple is a tuple already; e.g. a registered dataclass)
                leaves = jax.tree_util.tree_leaves(v)
            except Exception:
                continue
            if not (len(leaves) == 1 and leaves[0] is v):
                for leaf in leaves:
                    yield from _arrays(leaf)
