"""``portabench study --cluster``: connect to Ray, plan the study's runs, drive them, disconnect.

:func:`run_cluster_study` is what :func:`portabench.study.run_study` calls when
``--cluster`` is given; it returns the same :class:`~portabench.study.StudyResult`
as a local study. Runs of a cluster study run concurrently, each on nodes that
offer its device kind (docs/cluster.md); the store is written by this process
only. As locally, a study resumes the store's unfinished runs and skips runs it
completed with the same options, so the same command continues a study whose
driver was stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from portabench.cluster import require_ray
from portabench.cluster.driver import ClusterDriver, find_complete_cluster_run
from portabench.cluster.mailbox import start_mailbox
from portabench.cluster.plan import plan_units
from portabench.errors import PortabenchError
from portabench.store import Store

if TYPE_CHECKING:
    from portabench.study import StudyOptions


def connect(ray: Any, address: str) -> bool:
    """``ray.init(address)`` unless already connected; True when this call connected (and should disconnect).

    A cluster that cannot be reached is a one-line :class:`PortabenchError`.
    """
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False, configure_logging=True)
    except Exception as exc:  # ConnectionError, a timeout, a bad address: Ray raises several kinds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PortabenchError(f"cannot connect to the Ray cluster at {address!r}: {first}") from None
    return True


def run_cluster_study(store: Store, study: StudyOptions, progress_for: Callable[[str], Any],
                      say: Callable[[str], None]) -> Any:
    """Run the study's runs on the Ray cluster at ``study.cluster.address``; returns a :class:`StudyResult`."""
    from portabench.study import StudyResult, request_for, summary_line

    options = study.cluster
    if options is None:
        raise ValueError("run_cluster_study needs StudyOptions.cluster")
    ray = require_ray()
    deadline = None if study.budget_s is None else time.monotonic() + study.budget_s
    connected = connect(ray, options.address)
    try:
        plan = plan_units(study, options, ray.cluster_resources(), request_for)
        result = StudyResult(skipped=plan.skipped, unavailable=plan.unavailable)
        for framework, why in plan.skipped.items():
            say(f"{framework} skipped: {why}")
        result.studied = sorted({unit.framework for unit in plan.units})
        with progress_for(f"cluster study on {options.address}") as progress:
            driver = ClusterDriver(ray, store, start_mailbox(ray), options, say, deadline=deadline, progress=progress)
            try:
                for unit in plan.units:
                    done = None if study.fresh else find_complete_cluster_run(store, unit)
                    if done is not None:
                        say(f"{unit.framework} on {unit.device} ({unit.mode}): run {done.run_id} already complete "
                            "in this store")
                        continue
                    driver.start(unit)
            except BaseException:  # e.g. a run that cannot be resumed with these options: cancel what was submitted
                driver.stop()
                raise
            driver.run_all()
        for unit, summary in driver.summaries():
            say(summary_line(unit.framework, f"{unit.device} ({unit.mode})", summary))
            result.runs.append((unit.framework, unit.device, unit.mode, summary))
        for run in driver.runs:
            if run.abandoned:
                say(f"{run.unit.label}: {run.abandoned}")
        # as in a local study: an unfinished run (budget, or no node left for it) is continued by the same command
        result.stopped_by_budget = any(s.status != "complete" for _, s in driver.summaries())
        return result
    finally:
        if connected:
            ray.shutdown()
