"""The PyTorch adapter (worker side: imports torch).

Any torch device string works (cpu, cuda, cuda:1, mps, xla, meta, ...): a
device is usable when a tensor can be allocated on it. Cases come from torch's
OpInfo / ModuleInfo / OptimizerInfo metadata and from declarative specs.
"""

from __future__ import annotations

import gc
import importlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from portabench.cases import CaseDescriptor
from portabench.frameworks.base import UNHANDLED, Adapter, DeviceUnavailable, HostLeaf, Prepared
from portabench.frameworks.host import cpu_name, nested_leaves
from portabench.frameworks.spec_cases import spec_call
from portabench.frameworks.timer import Timer
from portabench.frameworks.torch_adapter import state
from portabench.frameworks.torch_adapter.api import resolve, walk_api
from portabench.frameworks.torch_adapter.compiled import (
    COMPILED_MODES,
    TorchCompiler,
    TorchPrepared,
    configure_worker,
    warm_up,
)
from portabench.frameworks.torch_adapter.metadata import Source, build_index, dtype_name, torch_dtype
from portabench.frameworks.torch_adapter.models import (
    COMPARED_BATCH,
    MODEL_BATCHES,
    model_catalog,
    model_descriptors,
    run_model_case,
    split_model_names,
)
from portabench.specs import ArrayInput, SpecFunction, builtin_spec_files, load_specs

#: case sources whose outputs may legitimately live on another device (they move data)
MOVES_DATA = {"opinfo:to", "opinfo:cpu", "opinfo:cuda"}

#: messages after which the CUDA context is unusable: the worker must be restarted
POISONING = ("illegal memory access", "device-side assert", "CUDA error: unspecified launch failure",
             "misaligned address")


#: case sources a mode does not apply to: export captures inference graphs, not training steps
NOT_IN_MODE = {"export": ("optiminfo:",)}

#: device types whose support lives in a separate package, imported before the device is used
DEVICE_PLUGINS = {"xla": "torch_xla", "hpu": "habana_frameworks.torch"}


def _xla_sync() -> None:
    """Run the pending lazy XLA graph and wait for the device (torch_xla's step barrier)."""
    import torch_xla.core.xla_model as xm

    xm.mark_step()
    xm.wait_device_ops()


class TorchTimer:
    """perf_counter timing bracketed by the device module's ``synchronize()`` (torch.cuda, torch.mps, ...).

    XLA tensors are lazy: their sync runs the pending graph (``mark_step``) and waits for it.
    """

    def __init__(self, device: torch.device) -> None:
        module = getattr(torch, device.type, None)
        sync = getattr(module, "synchronize", None)
        if device.type == "xla":
            sync = _xla_sync
        self._sync = (lambda: sync(device)) if device.type == "cuda" and sync else sync
        self._now = time.perf_counter_ns

    def now(self) -> int:
        return self._now()

    def sync(self, last_output: Any = None) -> None:
        if self._sync is not None:
            self._sync()


class TorchAdapter(Adapter):
    name = "torch"
    poisoning_messages = POISONING

    def __init__(self, device: str, mode: str, reference: str | None) -> None:
        super().__init__(device, mode, reference)
        try:
            self.torch_device = torch.device(device)
            plugin = DEVICE_PLUGINS.get(self.torch_device.type)
            if plugin:
                importlib.import_module(plugin)  # registers the device type with torch
            torch.empty(1, device=self.torch_device)
        except Exception as exc:
            raise DeviceUnavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        self._index: dict[str, list[Source]] | None = None
        self._samples: dict[tuple[str, str], tuple[int, list[Any]]] = {}  # (source, dtype) -> (count asked, samples)
        self._compiler = TorchCompiler(mode) if mode in COMPILED_MODES else None
        self._compile_settings = configure_worker() if self._compiler is not None else {}
        if mode == "compile":
            self._compile_settings["compile.warm_up_s"] = round(warm_up(self.torch_device) / 1e9, 2)

    # -- description hooks ---------------------------------------------------------
    def framework_version(self) -> str:
        return str(torch.__version__)

    def device_kind(self) -> str:
        return self.torch_device.type

    def device_name(self) -> str:
        dev = self.torch_device
        if dev.type == "cuda":
            return str(torch.cuda.get_device_name(dev))
        return cpu_name() if dev.type == "cpu" else dev.type

    def numeric_switches(self) -> dict[str, Any]:
        """The switches that change numerical results (TF32, reduced-precision reductions, determinism)."""
        cuda_matmul = torch.backends.cuda.matmul
        return {
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "cuda.matmul.allow_tf32": bool(cuda_matmul.allow_tf32),
            "cuda.matmul.allow_fp16_reduced_precision_reduction":
                bool(cuda_matmul.allow_fp16_reduced_precision_reduction),
            "cuda.matmul.allow_bf16_reduced_precision_reduction":
                bool(cuda_matmul.allow_bf16_reduced_precision_reduction),
            "cudnn.allow_tf32": bool(torch.backends.cudnn.allow_tf32),
            "cudnn.benchmark": bool(torch.backends.cudnn.benchmark),
            "cudnn.deterministic": bool(torch.backends.cudnn.deterministic),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "num_threads": torch.get_num_threads(),
            "cuda_version": torch.version.cuda,
        }

    def mode_numerics(self) -> dict[str, Any]:
        """The compiled modes' worker settings (torch records no mode name here)."""
        return dict(self._compile_settings)

    def api(self) -> list[dict[str, str]]:
        return walk_api()

    def device_count(self) -> int:
        dev = self.torch_device
        return torch.cuda.device_count() if dev.type == "cuda" and dev.index is None else 1

    def available_devices(self) -> list[str]:
        devices = ["cpu"]
        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            devices += [f"cuda:{i}" if count > 1 else "cuda" for i in range(count)]
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            devices.append("mps")
        if hasattr(torch, "xpu") and torch.xpu.is_available():
            devices.append("xpu")
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

    def source_in_mode(self, source: Source) -> bool:
        return not source.key.startswith(NOT_IN_MODE.get(self.mode, ()))

    def reference_device_type(self) -> str:
        return torch.device(self.reference).type if self.reference else self.torch_device.type

    def claimed_dtypes(self, source: Source, device_type: str) -> set[str]:
        return source.claimed(device_type)

    def sample_count(self, source: Source, dtype: str, max_samples: int) -> int:
        return len(self._source_samples(source, dtype, max_samples))

    def case_descriptor(self, name: str, source: Source, dtype: str, sample: int) -> CaseDescriptor:
        extra = {"any_device": True} if source.key in MOVES_DATA else {}
        return CaseDescriptor(name, source.key, dtype, sample, source.random, extra)

    def resolve_name(self, name: str) -> Any | None:
        return resolve(name)

    def split_models(self, functions: list[str] | None) -> tuple[list[str] | None, list[CaseDescriptor]]:
        functions, models = split_model_names(functions)
        return functions, model_descriptors(models, MODEL_BATCHES, COMPARED_BATCH)

    def list_models(self) -> list[dict[str, str]]:
        return [asdict(entry) for entry in model_catalog()]

    def run_model_case(self, case: CaseDescriptor, timing: Any, do_timing: bool) -> dict[str, Any]:
        return run_model_case(self, case, timing, do_timing)

    def functions_with_cases(self, specs: list[str]) -> list[str]:
        spec_index = load_specs("torch", builtin_spec_files("torch") + specs)
        return sorted(set(self.index) | set(spec_index))

    def _sample_device(self) -> str:
        """Where samples are generated: the device under test, as torch's test_compare_cpu does
        (the reference gets copies), unless it holds no data (meta): then the CPU."""
        return "cpu" if self.torch_device.type == "meta" else self.device

    def _source_samples(self, source: Source, dtype: str, count: int) -> list[Any]:
        """The first ``count`` samples (fewer if the source has fewer), generated once per worker.

        Generation is seeded from source and dtype, so the first k samples are the
        same whatever the count: any worker (one that listed the cases, a fresh
        one after a crash, another GPU's) sees the same sample at each index.
        """
        key = (source.key, dtype)
        cached = self._samples.get(key)
        if cached is None or (cached[0] < count and len(cached[1]) == cached[0]):
            self._samples[key] = (count, source.samples(dtype, count, self._sample_device()))
        return self._samples[key][1]

    def prepare_spec(self, fn: SpecFunction, case: CaseDescriptor, device: str) -> Prepared:
        function, inputs = spec_call(self, fn, case, device)
        return TorchPrepared(call=lambda: function(*inputs), fn=function, args=inputs)

    def prepare_source(self, source: Source, case: CaseDescriptor, device: str) -> Prepared:
        samples = self._source_samples(source, case.dtype, max(case.sample + 1, self.max_samples))
        return source.prepare(samples[case.sample], case.dtype, device, keep_devices=device == self._sample_device())

    # -- specs hooks ---------------------------------------------------------------
    def from_numpy(self, array: ArrayInput, device: str) -> torch.Tensor:
        values = array.values
        if array.dtype == "bfloat16":
            return torch.from_numpy(np.asarray(values, dtype=np.float32)).to(torch.bfloat16).to(device)
        return torch.from_numpy(np.array(values)).to(torch_dtype(array.dtype)).to(device)

    def spec_namespace(self, device: str, dtype: str) -> dict[str, Any]:
        return {
            "torch": torch, "nn": torch.nn, "F": torch.nn.functional, "device": torch.device(device),
            "dtype": torch_dtype(dtype) if dtype != "none" else torch.float32,
        }

    # -- execution -------------------------------------------------------------------
    def execute(self, prepared: Prepared) -> Any:
        """Eager: call it; ``compile`` / ``export``: through :class:`TorchCompiler` (compiles on a new case)."""
        if self._compiler is None:
            return prepared.call()
        return self._compiler.run(prepared)

    def compile_info(self, prepared: Prepared) -> dict[str, Any] | None:
        return None if self._compiler is None else self._compiler.info_for(prepared)

    def rng_state(self) -> bytes:
        state = torch.random.get_rng_state().numpy().tobytes()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state += b"".join(s.numpy().tobytes() for s in torch.cuda.get_rng_state_all())
        return state

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed)

    def host_array(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if not isinstance(output, torch.Tensor):
            return UNHANDLED
        t = output.detach()
        if t.is_meta:
            return HostLeaf(dtype_name(t.dtype), tuple(t.shape), None, str(t.device))
        if t.layout != torch.strided:
            t = t.to_dense()
        if t.is_quantized:
            t = t.dequantize()
        t = t.resolve_conj().resolve_neg().cpu()
        if t.dtype == torch.bfloat16:
            values = t.float().numpy()
        elif t.dtype == torch.complex32:
            values = t.to(torch.complex64).numpy()
        else:
            try:
                values = t.numpy()
            except TypeError:  # dtypes numpy lacks (float8, uint16...): compare as float64
                values = t.double().numpy()
        return HostLeaf(dtype_name(output.dtype), tuple(output.shape), values, str(output.device))

    def host_other(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if isinstance(output, torch.nn.Module):
            return {k: walk(v) for k, v in output.state_dict().items()}
        if isinstance(output, (torch.dtype, torch.Size)):
            return str(output)
        return f"<{type(output).__name__}>"

    def placement_error(self, output: Any, device: str) -> str | None:
        want = torch.device(device)
        for t in _tensors(output):
            if t.device.type != want.type or (want.index is not None and t.device.index != want.index):
                return f"result on {t.device}, requested {want}"
        return None

    def timer(self, device: str) -> Timer:
        return TorchTimer(torch.device(device))

    def after_failure(self) -> None:
        gc.collect()
        if self.torch_device.type == "cuda":
            try:
                torch.cuda.empty_cache()
            except Exception:
                pass

    # leftover hooks (frameworks/base.py): torch's global switches and CUDA memory, in state.py
    def global_switches(self) -> dict[str, Any]:
        return state.global_switches()

    def restore_global_switches(self, switches: dict[str, Any]) -> None:
        state.restore(switches)

    def device_memory_in_use(self, collect: bool = True) -> int | None:
        return state.device_memory_in_use(self.torch_device, collect=collect)


def _tensors(output: Any) -> Iterator[torch.Tensor]:
    return (v for v in nested_leaves(output) if isinstance(v, torch.Tensor))

