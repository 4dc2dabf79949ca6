"""The driver of a cluster study: submits node tasks, writes the store alone, re-places lost work.

For each :class:`~portabench.cluster.plan.RunUnit` the driver first submits
one task that *opens* the run on a node offering the device: it lists the
cases and runs the first shard. When its :class:`Opened` arrives the driver
begins the run in the store (or resumes the unfinished one, skipping recorded
cases) and submits the other shards, each with its explicit cases and the
facts its node must match. Results are written as they arrive, one at a time,
with the store's ``INSERT OR IGNORE`` (a case is never stored twice).

A task that fails with a Ray system error (node died, worker crashed) is
*lost*: after taking every message it sent, the driver re-submits its
unfinished cases, which Ray places on another node offering the resources.
A task that raises (a node that does not match the run, a worker that cannot
start) ends the study with that error; its runs stay resumable. Stopping the
driver (Ctrl-C, a budget, an error) cancels the tasks and marks unfinished
runs ``interrupted``; ``portabench study --cluster`` run again resumes them.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portabench.cases import CaseDescriptor
from portabench.cluster.messages import NodeFacts, Opened, Results, ShardTask
from portabench.cluster.node import run_shard
from portabench.cluster.options import ClusterOptions
from portabench.cluster.plan import RunUnit, config_without_cluster, shard_cases
from portabench.errors import PortabenchError
from portabench.protocol import ListingReply
from portabench.runner.session import RunSummary, _function_rows, run_config
from portabench.store import RunMeta, Store

Say = Callable[[str], None]
#: seconds the driver waits for a task to finish before it looks at the mailbox again
POLL_S = 0.2
#: seconds between checks that some live node still offers each unfinished run's resources
OFFER_CHECK_S = 5.0
#: seconds a run may wait for a node offering its resources (an autoscaler's new node) before it is given up
NO_NODE_GRACE_S = 300.0
#: seconds past the budget and a case's deadline before the driver cancels the tasks still running
OVERRUN_GRACE_S = 60.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Task:
    spec: ShardTask
    ref: Any
    run: _Run
    assigned: set[str] | None = None  # case ids; None for an opening task until its listing arrives


@dataclass
class _Run:
    unit: RunUnit
    previous: RunMeta | None
    run_id: str | None = None
    cases: list[CaseDescriptor] = field(default_factory=list)
    listing: ListingReply = field(default_factory=lambda: ListingReply(cases=[]))
    recorded: set[str] = field(default_factory=set)
    expect: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    replacements: int = 0
    abandoned: str | None = None  # why the run stopped before its cases were done
    unoffered_since: float | None = None  # monotonic time since which no live node offers its resources

    @property
    def complete(self) -> bool:
        return bool(self.run_id) and all(c.case_id in self.recorded for c in self.cases)


def find_complete_cluster_run(store: Store, unit: RunUnit) -> RunMeta | None:
    """A complete run of this unit with the same options (cluster or local), if the store has one."""
    config = run_config(unit.request)
    reference = unit.request.reference if unit.request.reference != unit.device else None
    for run in reversed(store.runs()):
        wanted = (unit.framework, unit.device, unit.mode, "complete", "portabench")
        if (run.framework, run.device, run.mode, run.status, run.origin) == wanted \
                and run.reference_device == reference and config_without_cluster(run.config) == config:
            return run
    return None


def resumable_run(store: Store, unit: RunUnit) -> RunMeta | None:
    """The unfinished run this unit continues (``--fresh`` off), checked as a local resume checks it."""
    if not unit.request.resume:
        return None
    previous = store.find_resumable(unit.framework, unit.device, unit.mode)
    if previous is None:
        return None
    config = run_config(unit.request)
    reference = unit.request.reference if unit.request.reference != unit.device else None
    old = config_without_cluster(previous.config)
    if old != config or previous.reference_device != reference:
        changed = sorted(k for k in set(config) | set(old) if config.get(k) != old.get(k))
        changed += ["reference"] if previous.reference_device != reference else []
        raise PortabenchError(
            f"cannot resume run {previous.run_id}: it was started with other options ({', '.join(changed)}); "
            "give the same options, or start new runs with --fresh"
        )
    return previous


class ClusterDriver:
    """Runs the units of a cluster study to the end; see the module docstring."""

    def __init__(self, ray: Any, store: Store, mailbox: Any, options: ClusterOptions, say: Say,
                 deadline: float | None = None, progress: Callable[[int, int, str], None] | None = None) -> None:
        self.ray = ray
        self.store = store
        self.mailbox = mailbox
        self.options = options
        self.say = say
        self.deadline = deadline
        self.progress = progress
        self.remote = ray.remote(max_retries=0, retry_exceptions=False)(run_shard)
        self.runs: list[_Run] = []
        self.tasks: dict[str, _Task] = {}  # tasks not finished yet
        self.task_runs: dict[str, _Run] = {}  # every task submitted -> its run
        self._next_task = 0
        self._last_offer_check = 0.0
        self._done_cases = 0
        self._total_cases = 0

    # -- submitting ---------------------------------------------------------------
    def start(self, unit: RunUnit) -> _Run:
        """Open ``unit``'s run on a node (resuming the store's unfinished run of it, if any)."""
        run = _Run(unit=unit, previous=resumable_run(self.store, unit))
        skip: frozenset[str] = frozenset()
        if run.previous is not None:
            skip = frozenset(self.store.done_case_ids(run.previous.run_id))
            run.expect = {"framework_version": run.previous.framework_version}
        self.runs.append(run)
        self._submit(run, ShardTask(task_id="", request=unit.request, skip=skip, shards=self.options.shards,
                                    expect=dict(run.expect)))
        return run

    def _submit(self, run: _Run, spec: ShardTask, assigned: set[str] | None = None) -> None:
        self._next_task += 1
        task_id = f"t{self._next_task}"
        request = spec.request
        if self.deadline is not None:
            request = dataclasses.replace(request, budget_s=max(0.0, self.deadline - time.monotonic()))
        spec = dataclasses.replace(spec, task_id=task_id, request=request)
        ref = self.remote.options(**run.unit.placement.ray_options()).remote(spec, self.mailbox)
        self.tasks[task_id] = _Task(spec=spec, ref=ref, run=run, assigned=assigned)
        self.task_runs[task_id] = run

    # -- the loop -----------------------------------------------------------------
    def run_all(self) -> None:
        """Wait for every task, handling messages as they come; on any exception stop everything, runs resumable."""
        try:
            while self.tasks:
                self._check_offered()
                self._check_deadline()
                if not self.tasks:
                    break
                refs = [t.ref for t in self.tasks.values()]
                ready, _ = self.ray.wait(refs, num_returns=1, timeout=POLL_S)
                if ready:
                    ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0)
                self._take_messages()  # after the wait: everything a ready task sent is in the mailbox
                by_ref = {t.ref: t for t in self.tasks.values()}
                for ref in ready:
                    self._finish(by_ref[ref])
            self._take_messages()  # anything sent by tasks given up above
        except BaseException:
            self.stop()
            raise
        for run in self.runs:
            self._close(run)

    def stop(self) -> None:
        """Cancel every task (their portabench workers are killed) and mark opened unfinished runs ``interrupted``."""
        for task in list(self.tasks.values()):
            self._cancel(task)
        self.tasks.clear()
        for run in self.runs:
            self._close(run)

    def _take_messages(self) -> None:
        for message in self.ray.get(self.mailbox.take.remote()):
            if isinstance(message, Opened):
                self._opened(message)
            elif isinstance(message, Results):
                self._results(message)

    def _finish(self, task: _Task) -> None:
        ray = self.ray
        del self.tasks[task.spec.task_id]
        try:
            ray.get(task.ref)
        except ray.exceptions.TaskCancelledError:
            return
        except ray.exceptions.RayTaskError as exc:  # the task itself raised: the study's error
            cause = getattr(exc, "cause", None) or exc
            if isinstance(cause, PortabenchError):
                raise PortabenchError(str(cause)) from None
            raise PortabenchError(f"{task.run.unit.label}: node task failed: {type(cause).__name__}: "
                                  f"{(str(cause).strip().splitlines() or [''])[-1]}") from None
        except ray.exceptions.RayError as exc:  # node lost, Ray worker crashed: re-place what is unfinished
            self._replace(task, exc)

    # -- messages -----------------------------------------------------------------
    def _opened(self, message: Opened) -> None:
        run = self.task_runs[message.task_id]
        task = self.tasks.get(message.task_id)
        if task is None and run.run_id is None:
            return  # the run was given up (no node left for it) before this task's listing came
        if message.listing is not None and run.run_id is None:
            assert task is not None
            self._begin(run, message.facts, message.listing)
            shares = shard_cases(run.cases, task.spec.skip, task.spec.shards)
            task.assigned = {c.case_id for c in shares[0]}
            for share in shares[1:]:
                if share and not self._over_budget():
                    shard = ShardTask(task_id="", request=run.unit.request, cases=[c.to_json() for c in share],
                                      expect=dict(run.expect))
                    self._submit(run, shard, assigned={c.case_id for c in share})
        self._add_node(run, message.facts)
        self.say(f"{run.unit.label}: task {message.task_id} started on {message.facts.host} "
                 f"({message.facts.ip}, node {message.facts.node_id[:8]}, {message.facts.device_name})")

    def _begin(self, run: _Run, facts: NodeFacts, listing: ListingReply) -> None:
        unit, request = run.unit, run.unit.request
        run.listing = listing
        run.cases = list(listing.cases)
        run.expect = {"framework_version": facts.framework_version, "device_name": facts.device_name,
                      "portabench_version": facts.portabench_version}
        self._total_cases += len(run.cases)
        cluster = {"address": self.options.address, "shards": self.options.shards, "nodes": []}
        if run.previous is not None:
            if run.previous.framework_version != facts.framework_version:
                raise PortabenchError(
                    f"cannot resume run {run.previous.run_id}: it used {unit.framework} "
                    f"{run.previous.framework_version}, node {facts.host} has {facts.framework_version}"
                )
            run.run_id = run.previous.run_id
            run.config = dict(run.previous.config)
            run.config.setdefault("cluster", cluster)
            run.recorded = self.store.done_case_ids(run.run_id)
            self._done_cases += len(run.recorded)
            self.store.set_run_status(run.run_id, "running")
            return
        run.run_id = uuid.uuid4().hex[:16]
        reference = request.reference if request.reference != unit.device else None
        run.config = {**run_config(request), "cluster": cluster}
        self.store.begin_run(RunMeta(
            run_id=run.run_id, framework=unit.framework, framework_version=facts.framework_version,
            device=unit.device, device_kind=facts.device_kind, device_name=facts.device_name, mode=unit.mode,
            reference_device=reference, host=facts.host, platform=facts.platform, python=facts.python,
            portabench_version=facts.portabench_version, numerics=facts.numerics, config=run.config,
            sample=request.sample, started_at=_now(),
        ), claimed=listing.claimed, functions=_function_rows(request, run.cases, listing))

    def _add_node(self, run: _Run, facts: NodeFacts) -> None:
        nodes = run.config["cluster"].setdefault("nodes", [])
        if any(n.get("node_id") == facts.node_id for n in nodes):
            return
        nodes.append(facts.record())
        assert run.run_id is not None
        self.store.set_run_config(run.run_id, run.config)

    def _results(self, message: Results) -> None:
        run = self.task_runs[message.task_id]
        if run.run_id is None:  # only a task of a run given up before it opened could send this
            return
        for result in message.results:
            if self.store.record_result(run.run_id, result):
                run.recorded.add(result.case_id)
                run.counts[result.outcome] = run.counts.get(result.outcome, 0) + 1
                self._done_cases += 1
        if self.progress:
            self.progress(self._done_cases, self._total_cases, message.results[-1].function if message.results else "")

    # -- lost tasks ---------------------------------------------------------------
    def _replace(self, task: _Task, error: BaseException) -> None:
        run = task.run
        if task.assigned is None:  # an opening task lost before its listing came back: open the run again
            left, spec, assigned = "its run, not opened yet,", task.spec, None
        else:
            todo = [c for c in run.cases if c.case_id in task.assigned and c.case_id not in run.recorded]
            if not todo:
                return
            left = f"{len(todo)} unfinished cases"
            spec = ShardTask(task_id="", request=run.unit.request, cases=[c.to_json() for c in todo],
                             expect=dict(run.expect))
            assigned = {c.case_id for c in todo}
        reason = type(error).__name__
        if self._over_budget():
            run.abandoned = f"task {task.spec.task_id} lost ({reason}) after the time budget"
            return
        run.replacements += 1
        if run.replacements > self.options.max_replacements * self.options.shards:
            raise PortabenchError(f"{run.unit.label}: lost {run.replacements} tasks ({reason}); stopping "
                                  "(the run is kept: run the same command again to resume it)")
        self.say(f"{run.unit.label}: task {task.spec.task_id} lost ({reason}); {left} placed again")
        self._submit(run, spec, assigned=assigned)

    def _check_offered(self) -> None:
        """Give up the runs whose resources no live node has offered for ``NO_NODE_GRACE_S``.

        Ray would keep their tasks pending forever (a cluster with an autoscaler
        adds nodes within the grace; one without never does).
        """
        now = time.monotonic()
        if now - self._last_offer_check < OFFER_CHECK_S:
            return
        self._last_offer_check = now
        totals = self.ray.cluster_resources()
        for run in {id(t.run): t.run for t in self.tasks.values()}.values():
            if run.unit.placement.offered_by(totals):
                run.unoffered_since = None
                continue
            run.unoffered_since = run.unoffered_since or now
            if now - run.unoffered_since < NO_NODE_GRACE_S:
                continue
            run.abandoned = f"no node has offered {run.unit.placement.describe()} for {NO_NODE_GRACE_S:g} s"
            self.say(f"{run.unit.label}: {run.abandoned}; run the same command again when one does, to resume")
            for task_id, task in list(self.tasks.items()):
                if task.run is run:
                    self._cancel(task)
                    del self.tasks[task_id]

    def _check_deadline(self) -> None:
        """Past the budget, tasks stop handing out cases; past it by a case's deadline and a minute, cancel them."""
        if self.deadline is None or not self.tasks:
            return
        grace = max(t.spec.request.timeout_s for t in self.tasks.values()) + OVERRUN_GRACE_S
        if time.monotonic() < self.deadline + grace:
            return
        self.say("the time budget is spent: stopping the tasks still running (their runs stay resumable)")
        for task in list(self.tasks.values()):
            self._cancel(task)
        self.tasks.clear()

    def _cancel(self, task: _Task) -> None:
        try:
            self.ray.cancel(task.ref)
        except Exception:  # already finished, or its node is gone
            pass

    def _over_budget(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    # -- the end ------------------------------------------------------------------
    def _close(self, run: _Run) -> None:
        if run.run_id is None:
            return
        self.store.finish_run(run.run_id, "complete" if run.complete else "interrupted", _now())

    def summaries(self) -> list[tuple[RunUnit, RunSummary]]:
        """One summary per opened run, as a local study reports it."""
        out = []
        for run in self.runs:
            if run.run_id is None:
                continue
            out.append((run.unit, RunSummary(
                run_id=run.run_id, status="complete" if run.complete else "interrupted", counts=dict(run.counts),
                total_cases=len(run.cases), resumed=run.previous is not None,
                missing=list(run.listing.missing), no_cases=list(run.listing.no_cases),
            )))
        return out
