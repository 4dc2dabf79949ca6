"""Which runs a study makes: devices x modes, and the sample each one gets.

With ``--modes`` the study runs every chosen mode on every chosen device with the
whole sample; with ``--devices`` alone, the chosen devices in the default mode.
Without either (the default study), it runs each framework's default mode (eager)
on the CPU and every accelerator with the whole sample, and adds *mode columns*:
each other mode of the framework (torch compile and export, JAX jit, TensorFlow
function and xla) on every device, and the framework's study-only devices (torch
``meta``) in the default mode. Every one is
compared with eager on the reference CPU, so on a machine without an accelerator
the CPU's mode columns are what the study compares.

Compilers are slow on a small CPU (torch.compile: seconds per case), so mode
columns of the default study run a reduced sample: the first
:data:`MODE_SAMPLE_FUNCTIONS` functions of the sample (the most used ones of the
default sample), :data:`MODE_SAMPLE_MAX_SAMPLES` input sample per source, in
:data:`MODE_SAMPLE_DTYPES`. A sample of every function (``--preset all``) has no
order to cut, so it gets no mode columns by default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from portabench.frameworks import FrameworkEntry

#: functions of the sample that the default study's mode columns run
MODE_SAMPLE_FUNCTIONS = 20
#: input samples per function, source and dtype in the default study's mode columns
MODE_SAMPLE_MAX_SAMPLES = 1
#: dtypes of the default study's mode columns
MODE_SAMPLE_DTYPES = ("float32",)


@dataclass(frozen=True)
class PlannedRun:
    """One run of the study: where, how, and on what."""

    device: str
    mode: str
    manifest: Any  # portabench.sampling.Manifest
    dtypes: list[str]
    max_samples: int
    reduced: bool = False  # a mode column on the reduced sample


def reduced_manifest(manifest: Any, count: int = MODE_SAMPLE_FUNCTIONS) -> Any:
    """The first ``count`` functions of ``manifest`` (manifest order), named ``<name>-modes``."""
    return replace(manifest, name=f"{manifest.name}-modes", functions=list(manifest.functions[:count]),
                   params={**manifest.params, "reduced_from": manifest.name, "functions_kept": count})


def plan_runs(entry: FrameworkEntry, chosen: list[str], modes: list[str] | None, devices_given: bool,
              manifest: Any, dtypes: list[str], max_samples: int) -> list[PlannedRun]:
    """The study's runs for one framework, the reference (default mode on ``cpu``) first.

    ``chosen``: devices from :func:`portabench.study.plan_devices` (``cpu`` first).
    """
    if modes is not None:
        for mode in modes:
            entry.check_mode(mode)
        return [PlannedRun(d, m, manifest, dtypes, max_samples) for m in modes for d in chosen]
    default = entry.modes[0]
    runs = [PlannedRun(d, default, manifest, dtypes, max_samples) for d in chosen]
    if manifest.name == "all" or devices_given:  # devices chosen without modes: those devices, default mode
        return runs
    small = reduced_manifest(manifest)
    small_dtypes = [d for d in MODE_SAMPLE_DTYPES if d in dtypes] or dtypes[:1]
    small_samples = min(max_samples, MODE_SAMPLE_MAX_SAMPLES)
    extra_devices = [d for d in entry.study_devices if d not in chosen]
    runs += [PlannedRun(d, default, small, small_dtypes, small_samples, True) for d in extra_devices]
    runs += [PlannedRun(d, m, small, small_dtypes, small_samples, True) for m in entry.modes[1:] for d in chosen]
    return runs


def mode_columns_note(entry: FrameworkEntry, runs: list[PlannedRun]) -> str | None:
    """What the study says about its reduced mode columns (None if it has none)."""
    reduced = [r for r in runs if r.reduced]
    if not reduced:
        return None
    cols = ", ".join(f"{r.device} {r.mode}" for r in reduced)
    first = reduced[0]
    return (f"{entry.name}: mode columns ({cols}) compare a mode or a tracing device with eager on the CPU; they ran "
            f"the first {len(first.manifest.functions)} functions of the sample, {first.max_samples} input sample(s), "
            f"dtypes {', '.join(first.dtypes)} (run `portabench study --modes ...` for the whole sample)")
