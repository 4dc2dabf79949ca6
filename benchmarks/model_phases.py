"""Where a whole-model case's time goes: each phase of the model case timed alone, in this process.

    PYTHONPATH=src python3 benchmarks/model_phases.py hf:resnet hf:bert [--device cpu --reference cpu:0]

For each model and step (forward, train) at the compared batch: building the model
on the CPU, copying it to a device (``same_weights``), one reference run, one
device run, the float64 arbiter (copy + run), localisation (hooks + re-runs), and
timing at each model batch (``measure`` with the run's default model timing). The
float64 and localisation phases are run even when nothing differs, to price what a
mismatch costs. Prints one JSON line per model: per phase ``[wall s, CPU s]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

from portabench.frameworks.timer import TimingConfig, measure
from portabench.frameworks.torch_adapter import TorchTimer
from portabench.frameworks.torch_adapter.models import COMPARED_BATCH, MODEL_BATCHES
from portabench.frameworks.torch_adapter.models import case as model_case
from portabench.frameworks.torch_adapter.models.sources import build_model


def _secs(fn: Callable[[], Any]) -> tuple[list[float], Any]:
    """([wall seconds, CPU seconds of this process, all threads], the value): CPU time is less
    disturbed than wall time by other work on a shared machine."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return [round(time.perf_counter() - start, 3), round(time.process_time() - cpu, 3)], value


def profile(name: str, device: str, reference: str, timing: TimingConfig) -> dict[str, Any]:
    phases: dict[str, Any] = {"model": name}
    phases["build"], built = _secs(lambda: build_model(name))
    phases["params"] = sum(p.numel() for p in built.model.parameters())
    for step in ("forward", "train"):
        b = COMPARED_BATCH
        phases[f"{step}.copy"], ref = _secs(lambda: model_case._Run(built, step, b, reference, "reference"))
        phases[f"{step}.ref_run"], ref_result = _secs(ref.run)
        _, run = _secs(lambda: model_case._Run(built, step, b, device, "device"))
        phases[f"{step}.dev_run"], got = _secs(run.run)
        phases[f"{step}.f64"], _ = _secs(lambda: model_case._arbitrate(built, step, b, reference, ref_result, got, {}))
        phases[f"{step}.localise"], _ = _secs(lambda: model_case._localise(built, step, b, reference, device, ref_result, got))
        for batch in MODEL_BATCHES:
            timed = model_case._Run(built, step, batch, device, "device")
            phases[f"{step}.time@{batch}"], _ = _secs(lambda: measure(timed.call, TorchTimer(torch.device(device)), timing))
    return phases


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--device", default="cpu")
    p.add_argument("--reference", default="cpu:0")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--time-budget", type=float, default=0.05)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    timing = TimingConfig(min_repeats=args.repeats, budget_s=args.time_budget)
    for name in args.models:
        print(json.dumps(profile(name, args.device, args.reference, timing)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
