"""The TensorFlow adapter (worker side: imports tensorflow).

Devices: ``cpu``, ``gpu``, ``tpu``, ``gpu:1``, ``/device:GPU:0`` (see
:mod:`.devices`); calls run under ``tf.device(...)`` with soft device placement
OFF unless the device carries the ``+soft`` suffix (or the worker has
``PORTABENCH_TF_SOFT_PLACEMENT=1``). Modes: ``eager``, ``function``
(``tf.function``) and ``xla`` (``tf.function(jit_compile=True)``), applied in
:meth:`TensorFlowAdapter.execute`; the traced function is cached on the prepared
case so timing measures calls, not tracing. Cases come from the generated
NumPy-counterpart table (:mod:`.generated`) and from declarative specs
(``data/specs/tensorflow*.toml``). docs/tensorflow.md describes it all.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf  # TF_CPP_MIN_LOG_LEVEL is left alone: the placement log is INFO

from portabench.cases import CaseDescriptor
from portabench.frameworks.base import UNHANDLED, Adapter, DeviceUnavailable, HostLeaf, Prepared
from portabench.frameworks.host import cpu_name, nested_leaves
from portabench.frameworks.spec_cases import prepare_spec_case
from portabench.frameworks.tensorflow_adapter import generated, state
from portabench.frameworks.tensorflow_adapter import models as keras_models
from portabench.frameworks.tensorflow_adapter.api import normalize, resolve, walk_api
from portabench.frameworks.tensorflow_adapter.devices import (
    GRAPH_PLACEMENT_LINE,
    PLACEMENT_LINE,
    TFDevice,
    parse_device,
    result_device,
    same_device,
    soft_from_env,
)
from portabench.frameworks.timer import Timer
from portabench.models.names import split_model_names
from portabench.specs import ArrayInput, SpecFunction

MODES = ("eager", "function", "xla")

#: messages after which the device is unusable in this process: the worker must be restarted
POISONING = ("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access", "GPU sync failed", "Failed to sync",
             "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure", "TPU system is not initialized",
             "stream did not block host")


@dataclass
class TFPrepared(Prepared):
    """A prepared case plus what the adapter needs to run it in a mode (the cached traced function)."""

    device: TFDevice | None = None
    traceable: bool = True
    compiled: Any = None


class TFTimer:
    """perf_counter timing; ``sync`` waits for queued device work (GPU/TPU execute asynchronously)."""

    def __init__(self, device: TFDevice) -> None:
        self._device = device
        self._sync_all = getattr(getattr(tf.test, "experimental", None), "sync_devices", None)

    def now(self) -> int:
        return time.perf_counter_ns()

    def sync(self, last_output: Any = None) -> None:
        if self._device.kind == "CPU":  # eager CPU kernels run synchronously
            return
        if self._sync_all is not None:
            try:
                self._sync_all()
                return
            except Exception:  # e.g. a TPU runtime without the op: fall back to fetching a result
                pass
        for t in _tensors(last_output):
            t.numpy()
            return




TNP_PREFIX = "tensorflow.experimental.numpy."


def _enable_numpy_behavior() -> None:
    """tf.experimental.numpy's documented prerequisite, switched on before the first tnp case of a worker.

    Without it TensorFlow's own tnp code fails on every device for some dtypes (``EagerTensor object has no
    attribute 'astype'`` for bfloat16 inputs, ``around``): broken cases, not findings. The legacy dtype
    conversion mode is kept, so other ops' type promotion does not change.
    """
    import tensorflow.experimental.numpy as tnp

    tnp.experimental_enable_numpy_behavior(dtype_conversion_mode="legacy")


class TensorFlowAdapter(Adapter):
    name = "tensorflow"
    poisoning_messages = POISONING
    host_depth_limit = 20  # nested datasets and modules: describe, do not walk, past this depth
    names_must_resolve = True  # its specs test TensorFlow's own API: a name this TensorFlow lacks is missing

    def __init__(self, device: str, mode: str, reference: str | None) -> None:
        super().__init__(device, mode, reference)
        if mode not in MODES:
            raise ValueError(f"tensorflow has no mode {mode!r} (choose from {', '.join(MODES)})")
        try:
            self.tf_device = parse_device(device)
        except ValueError as exc:
            raise DeviceUnavailable(str(exc)) from None
        self.soft = self.tf_device.soft or soft_from_env()
        tf.config.set_soft_device_placement(self.soft)
        self._check_available(self.tf_device)
        if reference is not None:
            try:
                self._check_available(parse_device(reference))
            except ValueError as exc:
                raise DeviceUnavailable(f"reference {exc}") from None
        self._entries: dict[str, list[generated.Entry]] | None = None
        self._last_fallback: str | None = None

    # -- devices -----------------------------------------------------------------
    @staticmethod
    def _logical(kind: str) -> list[Any]:
        return tf.config.list_logical_devices(kind)

    def _check_available(self, dev: TFDevice) -> None:
        if dev.kind == "TPU" and not self._logical("TPU"):
            _try_initialize_tpu()
        found = self._logical(dev.kind)
        if dev.index >= len(found):
            seen = ", ".join(d.name for d in tf.config.list_logical_devices()) or "none"
            raise DeviceUnavailable(
                f"no TensorFlow device {dev.name} here (TensorFlow {tf.__version__} sees: {seen})"
            )

    def available_devices(self) -> list[str]:
        out = ["cpu"]
        gpus = self._logical("GPU")
        out += [f"gpu:{i}" if len(gpus) > 1 else "gpu" for i in range(len(gpus))]
        tpus = self._logical("TPU")
        out += [f"tpu:{i}" if len(tpus) > 1 else "tpu" for i in range(len(tpus))]
        return out

    def device_count(self) -> int:
        unindexed = not any(ch.isdigit() for ch in self.device)
        return len(self._logical("GPU")) if self.tf_device.kind == "GPU" and unindexed else 1

    def _dev(self, device: str) -> TFDevice:
        if device == self.device:
            return self.tf_device
        return parse_device(device)

    # -- description hooks ---------------------------------------------------------
    def framework_version(self) -> str:
        return str(tf.__version__)

    def device_kind(self) -> str:
        return self.tf_device.kind.lower()

    def device_name(self) -> str:
        dev = self.tf_device
        name = cpu_name() if dev.kind == "CPU" else dev.name
        if dev.kind == "GPU":
            try:
                details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[dev.index])
                name = details.get("device_name", name)
            except Exception:
                pass
        return str(name)

    def numeric_switches(self) -> dict[str, Any]:
        """The switches that change numerical results or placement (TF32, oneDNN, soft placement, determinism)."""
        try:
            from tensorflow.python.framework import config as tf_config

            determinism = bool(tf_config.is_op_determinism_enabled())
        except Exception:
            determinism = None
        build = {}
        try:
            build = dict(tf.sysconfig.get_build_info())
        except Exception:
            pass
        return {
            "tensor_float_32_execution": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
            "soft_device_placement": bool(tf.config.get_soft_device_placement()),
            "op_determinism": determinism,
            "TF_DETERMINISTIC_OPS": os.environ.get("TF_DETERMINISTIC_OPS"),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
            "TF_XLA_FLAGS": os.environ.get("TF_XLA_FLAGS"),
            "jit_autoclustering": str(tf.config.optimizer.get_jit() or ""),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "cpu_count": os.cpu_count(),
            "cuda_version": build.get("cuda_version"),
            "cudnn_version": build.get("cudnn_version"),
        }

    def api(self) -> list[dict[str, str]]:
        return walk_api()

    # -- case hooks ------------------------------------------------------------------
    @property
    def entries(self) -> dict[str, list[generated.Entry]]:
        if self._entries is None:
            self._entries = generated.build_entries()
        return self._entries

    # -- whole Keras models (models.py) ----------------------------------------------
    def split_models(self, functions: list[str] | None) -> tuple[list[str] | None, list[CaseDescriptor]]:
        functions, models = split_model_names(functions)
        return functions, keras_models.model_descriptors(models)

    def list_models(self) -> list[dict[str, str]]:
        return keras_models.catalog()

    def run_model_case(self, case: CaseDescriptor, timing: Any, do_timing: bool) -> dict[str, Any]:
        return keras_models.run_model_case(self, case, timing, do_timing)

    def source_names(self) -> list[str]:
        return list(self.entries)

    def case_sources(self, name: str) -> list[generated.Entry]:
        return self.entries.get(name, [])

    def source_key(self, source: generated.Entry) -> str:
        return source.source

    def reference_device_type(self) -> str:
        return parse_device(self.reference).kind.lower() if self.reference else "cpu"

    def claim_device_types(self) -> list[str]:
        return sorted({self.device_kind(), self.reference_device_type()})

    def claimed_dtypes(self, source: generated.Entry, device_type: str) -> set[str]:
        return set(source.dtypes)

    def sample_count(self, source: generated.Entry, dtype: str, max_samples: int) -> int:
        return generated.sample_count(source)

    def case_descriptor(self, name: str, source: generated.Entry, dtype: str, sample: int) -> CaseDescriptor:
        return CaseDescriptor(name, source.source, dtype, sample, extra={"numpy": source.numpy})

    def resolve_name(self, name: str) -> Any | None:
        return resolve(name)

    def canonical_name(self, name: str) -> str:
        return normalize(name)

    def prepare_spec(self, fn: SpecFunction, case: CaseDescriptor, device: str) -> Prepared:
        dev = self._dev(device)
        with tf.device(dev.name):  # objects made by setup code live on the device
            inner = prepare_spec_case(self, fn, case, device)
        device_name, spec_call = dev.name, inner.call

        def call() -> Any:
            with tf.device(device_name):
                return spec_call()

        return TFPrepared(call=call, postprocess=inner.postprocess, device=dev)

    def prepare_source(self, source: generated.Entry, case: CaseDescriptor, device: str) -> Prepared:
        return self._prepare_generated(source, case, self._dev(device))

    def _prepare_generated(self, entry: generated.Entry, case: CaseDescriptor, dev: TFDevice) -> TFPrepared:
        if entry.qualname.startswith(TNP_PREFIX):
            _enable_numpy_behavior()
        fn = resolve(entry.qualname)
        if fn is None:  # entries are built from names that resolve: only a changed installation gets here
            raise LookupError(f"{entry.qualname} does not exist in tensorflow {tf.__version__}")
        values, kwargs = generated.sample_inputs(entry, case.case_id, case.sample, case.dtype)
        args = [self.from_numpy(ArrayInput(v, case.dtype), dev) for v in values]
        positional = generated.POSITIONAL_KWARGS.get(entry.kind)
        if positional is not None:
            args += [kwargs.pop(k) for k in positional]
        if entry.postprocess == "as_list":
            args = [args]
        device_name = dev.name

        def call() -> Any:
            with tf.device(device_name):
                return fn(*args, **kwargs)

        return TFPrepared(call=call, postprocess=_POSTPROCESS.get(entry.postprocess, _identity), device=dev)

    # -- specs hooks ---------------------------------------------------------------
    def from_numpy(self, array: ArrayInput, device: str | TFDevice) -> tf.Tensor:
        dev = device if isinstance(device, TFDevice) else self._dev(device)
        values = np.asarray(array.values)
        with tf.device(dev.name):
            if array.dtype == "bfloat16":
                t = tf.cast(tf.constant(values.astype(np.float32)), tf.bfloat16)
            elif array.dtype.startswith("complex") and values.dtype.kind != "c":
                t = tf.constant(values.astype(array.dtype))
            else:
                t = tf.constant(values.astype(array.dtype) if values.dtype.kind != "U" else values)
            return tf.identity(t)

    def spec_namespace(self, device: str, dtype: str) -> dict[str, Any]:
        dev = self._dev(device)
        soft = self.soft

        def session_config(**config: Any) -> Any:
            """A compat.v1 ConfigProto whose soft placement follows the run (placement logged when soft)."""
            config.setdefault("allow_soft_placement", soft)
            config.setdefault("log_device_placement", soft and dev.kind != "CPU")
            return tf.compat.v1.ConfigProto(**config)

        def session(graph: Any = None, **config: Any) -> Any:
            """A compat.v1 Session on ``graph`` configured by :func:`session_config`."""
            return tf.compat.v1.Session(graph=graph, config=session_config(**config))

        return {
            "tf": tf, "tf1": tf.compat.v1, "np": np, "device": dev.name,
            "dtype": tf.as_dtype(dtype) if dtype != "none" else tf.float32,
            "session": session, "session_config": session_config, "soft_placement": soft,
            "tempdir": tempfile.mkdtemp(prefix="portabench-tf-"),
        }

    # -- execution -------------------------------------------------------------------
    def execute(self, prepared: Prepared) -> Any:
        traceable = getattr(prepared, "traceable", True)
        fn: Any
        if self.mode == "eager" or not traceable:
            fn = prepared.call
        else:
            fn = getattr(prepared, "compiled", None)
            if fn is None:
                fn = tf.function(prepared.call, jit_compile=self.mode == "xla", autograph=False, reduce_retracing=True)
                if isinstance(prepared, TFPrepared):
                    prepared.compiled = fn
        dev = getattr(prepared, "device", None)
        if self.soft and dev is not None and dev == self.tf_device and dev.kind != "CPU":
            out, self._last_fallback = _with_placement_log(fn, dev)
            return out
        return fn()

    def seed(self, seed: int) -> None:
        tf.random.set_seed(seed)
        random.seed(seed)
        np.random.seed(seed)

    def host_array(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if isinstance(output, (tf.Tensor, tf.Variable)):
            try:
                values = output.numpy()
            except Exception:  # a symbolic tensor (graph mode): describe it
                return f"<{type(output).__name__} {output.dtype.name} {output.shape}>"
            device = getattr(output, "device", "") or ""
            return _leaf(np.asarray(values), output.dtype.name, device)
        if isinstance(output, tf.RaggedTensor):
            return {"flat_values": walk(output.flat_values), "row_splits": [walk(s) for s in output.nested_row_splits]}
        if isinstance(output, tf.SparseTensor):
            return {"indices": walk(output.indices), "values": walk(output.values),
                    "dense_shape": walk(output.dense_shape)}
        if isinstance(output, np.ndarray):
            return _leaf(output, output.dtype.name if output.dtype.kind not in "OSU" else "string", "host")
        if isinstance(output, np.generic):
            return walk(np.asarray(output))
        return UNHANDLED

    def host_other(self, output: Any, walk: Callable[[Any], Any]) -> Any:
        if isinstance(output, bytes):
            return output.decode(errors="replace")
        if isinstance(output, tf.DType):
            return output.name
        if isinstance(output, tf.TensorShape):
            return None if output.rank is None else list(output.as_list())
        if isinstance(output, tf.data.Dataset):
            return [walk(e) for e in output.take(64)]
        if isinstance(output, tf.Module):
            return {v.name: walk(v) for v in output.variables}
        return f"<{type(output).__name__}>"

    def placement_error(self, output: Any, device: str) -> str | None:
        want = self._dev(device)
        for t in _tensors(output):
            try:
                where = t.device
            except Exception:
                continue
            if not same_device(where, want):
                fell_back = " (soft placement fell back)" if self.soft else ""
                return f"result on {where}, requested {want.name}{fell_back}"
        if self._last_fallback:
            message, self._last_fallback = self._last_fallback, None
            return message
        return None

    def timer(self, device: str) -> Timer:
        return TFTimer(self._dev(device))

    def after_failure(self) -> None:
        self._last_fallback = None
        gc.collect()

    # leftover hooks (frameworks/base.py): TensorFlow's global switches and GPU memory, in state.py
    def global_switches(self) -> dict[str, Any]:
        return state.global_switches()

    def restore_global_switches(self, switches: dict[str, Any]) -> None:
        state.restore(switches)

    def device_memory_in_use(self, collect: bool = True) -> int | None:
        return state.device_memory_in_use(self.tf_device.kind, self.tf_device.index, collect=collect)


# -- helpers -------------------------------------------------------------------------------------
def _identity(out: Any) -> Any:
    return out


def _abs_all(out: Any) -> Any:
    return [tf.abs(t) for t in out]


_POSTPROCESS = {
    # sign/phase of eigenvectors, singular vectors and QR factors is not unique: compare magnitudes
    "eigh": lambda out: [out[0], tf.abs(out[1])],
    "svd": lambda out: [out[0], tf.abs(out[1]), tf.abs(out[2])],
    "qr": _abs_all,
}


def _try_initialize_tpu() -> None:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except Exception:  # no TPU here: the availability check says so
        pass


def _with_placement_log(fn: Any, dev: TFDevice) -> tuple[Any, str | None]:
    """Run ``fn`` with TensorFlow's device placement log captured (fd level); report ops placed off ``dev``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as log:
        for fd in saved:
            os.dup2(log.fileno(), fd)
        tf.debugging.set_log_device_placement(True)
        try:
            out = fn()
            TFTimer(dev).sync(out)
        finally:
            tf.debugging.set_log_device_placement(False)
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
        log.seek(0)
        text = log.read().decode(errors="replace")
    return out, placement_fallback(text, dev)


def placement_fallback(log_text: str, dev: TFDevice) -> str | None:
    """The first op of a placement log that ran on another device type than ``dev``, as a message."""
    for line in log_text.splitlines():
        m = PLACEMENT_LINE.search(line)
        if m is not None:
            op, where = m.group(1), m.group(2)
        else:
            g = GRAPH_PLACEMENT_LINE.match(line.strip())
            if g is None:
                continue
            op, where = g.group(2), g.group(3)
        got = result_device(where)
        if got is not None and got[0] != dev.kind and op not in _HOST_OPS:
            return f"op {op} ran on {where}, requested {dev.name} (soft placement fell back)"
    return None


#: ops that legitimately run on the host whatever the requested device (inputs, outputs, control)
_HOST_OPS = {"_Arg", "_Retval", "NoOp", "_Recv", "_Send", "_HostRecv", "_HostSend", "Const", "Placeholder",
             "VarHandleOp", "_DeviceArg", "_DeviceRetval", "Identity", "IteratorGetNext"}


def _tensors(output: Any) -> Iterator[Any]:
    for v in nested_leaves(output):
        if isinstance(v, (tf.Tensor, tf.Variable)):
            yield v
        elif isinstance(v, tf.RaggedTensor):
            yield v.flat_values
        elif isinstance(v, tf.SparseTensor):
            yield v.values


def _leaf(values: np.ndarray, dtype_name: str, device: str) -> Any:
    if values.dtype.kind in "OSU":  # strings: compare as Python values
        return [v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in values.reshape(-1).tolist()]
    if dtype_name == "bfloat16":
        values = values.astype(np.float32)
    return HostLeaf(dtype_name, tuple(values.shape), values, device)
