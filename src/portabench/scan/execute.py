"""``portabench scan --run``: run the functions the project uses that have no results yet.

The project's call sites become the sample: for each framework it uses, the
names its resolved sites cover that are ``untested`` on some device are run with
the library's run loop (:func:`portabench.runner.session.execute_run`, as
``portabench run`` does) into the first store given — on ``cpu`` (the reference)
and on every accelerator the framework sees here (:func:`portabench.study.plan_devices`,
as ``portabench study`` picks them), or on ``--devices``. Names without cases end
as ``no cases`` (the run records them). The scan is then joined with the stores again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portabench.cases import dtype_list
from portabench.errors import PortabenchError
from portabench.frameworks import device_kind, get_framework
from portabench.runner.session import RunRequest, execute_run
from portabench.scan.core import join_results
from portabench.scan.model import UNTESTED, ScanResult
from portabench.store import Store
from portabench.study import plan_devices, summary_line


def untested_names(result: ScanResult, framework: str, devices: list[str]) -> list[str]:
    """Names covered by the framework's resolved sites that are untested on one of ``devices``."""
    names: set[str] = set()
    for site in result.resolved_sites:
        if site.framework != framework:
            continue
        for name in site.covers:
            by_device = result.verdicts.get((framework, name), {})
            kinds = [device_kind(d, framework) for d in devices]
            if any(k not in by_device or by_device[k].status == UNTESTED for k in kinds):
                names.add(name)
    return sorted(names)


def run_untested(result: ScanResult, progress_for: Callable[[str], Any], say: Callable[[str], None]) -> ScanResult:
    """Run the untested functions of ``result`` on local devices, then join the stores again.

    ``progress_for(label)`` is a context manager giving a progress callback (as for ``study``);
    ``say(line)`` reports each finished run. Raises :class:`PortabenchError` without a store.
    """
    if not result.options.stores:
        raise PortabenchError("--run needs --store: the results are written to the first store given")
    store_path = result.options.stores[0]
    for framework in result.frameworks:
        entry = get_framework(framework)
        if not entry.is_installed():
            result.run_summaries.append(f"{framework}: not installed here, nothing run")
            continue
        devices, missing = plan_devices(entry, result.options.devices or None)
        if missing:
            result.run_summaries.append(f"{framework}: not available here: {', '.join(missing)}")
        names = untested_names(result, framework, devices)
        if not names:
            result.run_summaries.append(f"{framework}: every function the project uses has results already")
            continue
        sample = {"name": "scan", "functions": [{"function": n} for n in names]}
        with Store(store_path) as store:
            for device in devices:
                request = RunRequest(framework=entry.name, device=device, reference=None if device == "cpu" else "cpu",
                                     functions=names, sample=sample, dtypes=dtype_list(None),
                                     do_timing=False)
                with progress_for(f"{entry.name} on {device}") as progress:
                    summary = execute_run(store, request, progress)
                line = summary_line(entry.name, device, summary)
                say(line)
                result.run_summaries.append(line)
    return join_results(result)
