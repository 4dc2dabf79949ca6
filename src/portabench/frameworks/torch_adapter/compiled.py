"""PyTorch's compiled modes (worker side): ``compile`` (torch.compile, Inductor) and ``export``.

* ``compile``: ``torch.compile(call, fullgraph=...)`` of the case's zero-argument
  call (its tensors are closed over; Dynamo lifts them to graph inputs). Dynamo is
  reset before each case, so every case compiles from its own clean state and the
  recompile limit applies per case; hitting it raises (``fail_on_recompile_limit_hit``)
  instead of silently running eagerly. Compilation happens in the first call: its
  time minus a steady call is the case's ``compile_ns`` (worker/execute.py).
* ``export``: ``torch.export.export`` of a module wrapping the call, then the
  exported program's module is run; ``compile_ns`` is the export time.

What the compiler did is read from Dynamo's own counters
(``torch._dynamo.utils.counters``): graph breaks with their reasons, graphs
captured, frames compiled after the first call (recompilations) and whether the
case ran (partly) eagerly (``fallback``: a graph break, or no graph captured at
all). ``fullgraph`` (``PORTABENCH_TORCH_FULLGRAPH=1`` in the worker's
environment, set by ``--fullgraph``) makes any break an error.

Inductor's on-disk caches go to a directory of this worker (removed at exit), so
a compile time never depends on what an earlier run left in a shared cache.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils._pytree import tree_flatten, tree_unflatten

from portabench.frameworks.base import Prepared

#: worker environment variable that turns on ``fullgraph=True`` (set by ``--fullgraph``)
FULLGRAPH_ENV = "PORTABENCH_TORCH_FULLGRAPH"
#: Dynamo recompilations allowed per case before it fails (Dynamo's own default: 8)
RECOMPILE_LIMIT = 8
#: graph-break reasons kept per case (the first line of each, at most this many)
MAX_REASONS = 5
#: characters kept of each graph-break reason (its first line)
REASON_CHARS = 300

COMPILED_MODES = ("compile", "export")


def fullgraph_requested() -> bool:
    return os.environ.get(FULLGRAPH_ENV, "") not in ("", "0", "false")


def configure_worker() -> dict[str, Any]:
    """Per-worker compiler settings: a private Inductor cache and strict Dynamo limits.

    Returns the settings as recorded in the run's numerics.
    """
    # before importing Dynamo: importing it fixes Inductor's cache directory
    # (torch/_inductor/runtime/cache_dir_utils.py)
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
        cache = tempfile.mkdtemp(prefix="portabench-inductor-")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        os.environ.setdefault("TRITON_CACHE_DIR", os.path.join(cache, "triton"))
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        cache_policy = "per-worker (fresh)"
    else:
        cache_policy = "TORCHINDUCTOR_CACHE_DIR (given)"
    # compile in this process: a pool of compile subprocesses would be killed after every case by the
    # worker's hygiene check (worker/hygiene.py), which tolerates only what existed before the first case
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    import torch._dynamo

    torch._dynamo.config.recompile_limit = RECOMPILE_LIMIT
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    return {
        "compile.fullgraph": fullgraph_requested(),
        "compile.backend": "inductor",
        "compile.recompile_limit": RECOMPILE_LIMIT,
        "compile.cache": cache_policy,
        "compile.threads": os.environ["TORCHINDUCTOR_COMPILE_THREADS"],
    }


def warm_up(device: torch.device) -> int:
    """Compile and run a tiny function on ``device`` once; returns the nanoseconds it took.

    Done when a compile-mode worker starts (under the worker's start-up deadline): the one-time
    cost of the first compilation (imports, C++/Triton toolchain checks, the compiler's thread
    pool) is then neither in the first case's ``compile_ns`` nor under its deadline, and the
    threads it starts exist before the worker's hygiene baseline is taken.
    """
    import torch._dynamo

    start = time.perf_counter_ns()
    torch.compile(lambda x: x * 2 + 1)(torch.ones(4, device=device))
    torch._dynamo.reset()
    return time.perf_counter_ns() - start


@dataclass
class CompileState:
    """What the compiler did for one case (JSON-ready with :meth:`to_json`)."""

    mode: str
    graph_breaks: int = 0
    break_reasons: list[str] = field(default_factory=list)
    graphs: int = 0
    frames: int = 0
    recompiles: int = 0
    fallback: bool = False
    fullgraph: bool = False
    _frames_after_first: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "graph_breaks": self.graph_breaks, "break_reasons": self.break_reasons,
            "graphs": self.graphs, "frames": self.frames, "recompiles": self.recompiles,
            "fallback": self.fallback, "fullgraph": self.fullgraph,
        }


@dataclass
class TorchPrepared(Prepared):
    """A prepared case that also names its callable and inputs: ``call()`` is ``fn(*args, **kwargs)``.

    Compiled modes compile ``fn`` and pass the inputs as arguments, as a user
    would (``torch.compile(op)(x)``, ``torch.export.export(module, args)``),
    instead of closing over them.
    """

    fn: Any = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


class FullgraphFallback(RuntimeError):
    """With ``fullgraph``, a case that Dynamo ran (partly) eagerly without raising itself."""


class _CallModule(torch.nn.Module):
    """A module whose ``forward(*tensors)`` calls ``fn`` on the case's inputs (what ``torch.export`` takes).

    The inputs' tensors are the forward's arguments; everything else in them is a constant.
    """

    def __init__(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__()
        self._fn = fn
        leaves, self._spec = tree_flatten((args, kwargs))
        self._slots = [i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)]
        self._leaves = leaves
        self.tensors = tuple(leaves[i] for i in self._slots)

    def forward(self, *tensors: torch.Tensor) -> Any:
        leaves = list(self._leaves)
        for slot, tensor in zip(self._slots, tensors, strict=False):
            leaves[slot] = tensor
        args, kwargs = tree_unflatten(leaves, self._spec)
        return self._fn(*args, **kwargs)


def _export(prepared: Prepared) -> Any:
    """The exported program's module, called with no arguments (inputs bound)."""
    if isinstance(prepared, TorchPrepared) and isinstance(prepared.fn, torch.nn.Module):
        program = torch.export.export(prepared.fn, prepared.args, prepared.kwargs)
        module, args, kwargs = program.module(), prepared.args, prepared.kwargs
        return lambda: module(*args, **kwargs)
    if isinstance(prepared, TorchPrepared) and prepared.fn is not None:
        wrapper = _CallModule(prepared.fn, prepared.args, prepared.kwargs)
    else:  # a spec case: only its zero-argument call is known; its tensors become constants
        wrapper = _CallModule(lambda: prepared.call(), (), {})
    module, tensors = torch.export.export(wrapper, wrapper.tensors).module(), wrapper.tensors
    return lambda: module(*tensors)


def _compile(prepared: Prepared, fullgraph: bool) -> Any:
    """``torch.compile`` of the case's callable, called with no arguments (inputs bound)."""
    if isinstance(prepared, TorchPrepared) and prepared.fn is not None:
        compiled, args, kwargs = torch.compile(prepared.fn, fullgraph=fullgraph), prepared.args, prepared.kwargs
        return lambda: compiled(*args, **kwargs)
    return torch.compile(prepared.call, fullgraph=fullgraph)


class TorchCompiler:
    """Runs prepared cases in a compiled mode, one case at a time, and keeps what the compiler did."""

    def __init__(self, mode: str) -> None:
        if mode not in COMPILED_MODES:
            raise ValueError(f"not a compiled torch mode: {mode!r}")
        self.mode = mode
        self.fullgraph = fullgraph_requested()
        self._prepared: Prepared | None = None
        self._compiled: Any = None
        self.state: CompileState | None = None

    def run(self, prepared: Prepared) -> Any:
        """Call ``prepared`` compiled; the first call for a new ``prepared`` compiles (or exports) it."""
        if prepared is not self._prepared:
            self._start(prepared)
            return self._first_call(prepared)
        out = self._compiled()
        self._update_counters(after_first=True)
        return out

    def _start(self, prepared: Prepared) -> None:
        import torch._dynamo
        from torch._dynamo.utils import counters

        torch._dynamo.reset()  # each case compiles from a clean state; its recompile limit is its own
        counters.clear()
        self._prepared, self._compiled = prepared, None
        self.state = CompileState(mode=self.mode, fullgraph=self.fullgraph)

    def _first_call(self, prepared: Prepared) -> Any:
        try:
            if self.mode == "export":
                start = time.perf_counter_ns()
                self._compiled = _export(prepared)
                prepared.compile_ns = time.perf_counter_ns() - start
            else:
                self._compiled = _compile(prepared, self.fullgraph)
            out = self._compiled()
        finally:
            self._update_counters(after_first=False)
        if self.fullgraph and self.state is not None and self.state.fallback:
            raise FullgraphFallback(
                f"fullgraph: torch.compile captured {self.state.graphs} graph(s) with {self.state.graph_breaks} "
                "graph break(s): the call ran (partly) eagerly"
            )
        return out

    def _update_counters(self, after_first: bool) -> None:
        from torch._dynamo.utils import counters

        state = self.state
        if state is None:
            return
        breaks: dict[Any, int] = counters.get("graph_break", {})
        state.graph_breaks = int(sum(breaks.values()))
        state.break_reasons = [str(reason).strip().splitlines()[0][:REASON_CHARS] for reason in list(breaks)[:MAX_REASONS]]
        stats: dict[str, int] = counters.get("stats", {})
        frames: dict[str, int] = counters.get("frames", {})
        state.graphs = int(stats.get("unique_graphs", 0))
        state.frames = int(frames.get("total", 0))
        if not after_first:
            state._frames_after_first = state.frames
        elif state._frames_after_first is not None:
            state.recompiles = max(state.frames - state._frames_after_first, 0)
        # export has no eager fallback: it either captures one graph or raises
        state.fallback = self.mode == "compile" and (state.graph_breaks > 0 or state.graphs == 0)

    def info_for(self, prepared: Prepared) -> dict[str, Any] | None:
        """What the compiler did for ``prepared`` (None if it was never run compiled here)."""
        if prepared is not self._prepared or self.state is None:
            return None
        return self.state.to_json()
