"""The Ray task that runs one shard of a run on a node, through portabench's own runner.

The Ray worker process only orchestrates: cases run in portabench worker
processes started by :mod:`portabench.runner` (``_start_worker``, the
:class:`~portabench.runner.dispatch.Dispatcher` with its per-case deadlines,
recycling and one worker per device), exactly as in a local run, so a case
that crashes or hangs kills a portabench worker, never the Ray task. The task
never writes a store: it sends :class:`~portabench.cluster.messages.Opened`
and :class:`~portabench.cluster.messages.Results` to the driver's mailbox and
waits for each to be acknowledged. It raises :class:`PortabenchError` when its
node does not match the run (framework version, device model) or its worker
cannot start; the driver treats that as the study's error, not as a lost node.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from typing import Any

import portabench
from portabench.cases import CaseDescriptor
from portabench.cluster.messages import NodeFacts, Opened, Results, ShardTask
from portabench.cluster.plan import shard_cases
from portabench.errors import PortabenchError
from portabench.frameworks import get_framework
from portabench.protocol import ListCasesRequest, ListingReply, WorkerInfo
from portabench.runner.process import WorkerError, WorkerFailure
from portabench.runner.session import _dispatcher, _start_worker, effective_reference


def node_facts(info: WorkerInfo) -> NodeFacts:
    """This node's facts, from a worker's ``hello`` reply."""
    import ray

    context = ray.get_runtime_context()
    return NodeFacts(
        node_id=context.get_node_id(), host=socket.gethostname(), ip=ray.util.get_node_ip_address(),
        platform=platform.platform(), python=platform.python_version(), portabench_version=portabench.__version__,
        framework_version=info.framework_version, device_kind=info.device_kind,
        device_name=info.device_name, omp_num_threads=os.environ.get("OMP_NUM_THREADS"),
        numerics=dict(info.numerics),
    )


def _check(facts: NodeFacts, expect: dict[str, str]) -> None:
    for key, wanted in expect.items():
        have = getattr(facts, key)
        if have != wanted:
            raise PortabenchError(
                f"node {facts.host} ({facts.ip}) has {key} {have!r} where the run has {wanted!r}: a run is never "
                "spread over different versions or device models (give such nodes their own resources, "
                "docs/cluster.md)"
            )


def run_shard(task: ShardTask, mailbox: Any) -> int:
    """Run ``task`` on this node, sending results to ``mailbox``; returns the number of results sent."""
    import ray

    started = time.monotonic()  # the budget counts from here, worker start-up included
    request = task.request
    entry = get_framework(request.framework)
    entry.require_installed()
    mode = entry.check_mode(request.mode)
    reference = effective_reference(request, mode)  # a compiled mode may compare with eager on its own device
    worker, info = _start_worker(request, mode, reference)
    try:
        facts = node_facts(info)
        _check(facts, task.expect)
        listing: ListingReply | None = None
        if task.cases is None:
            listing = worker.request(ListCasesRequest(
                functions=request.functions, dtypes=request.dtypes, specs=request.specs, max_samples=request.max_samples,
            ), request.startup_timeout_s)
            todo = shard_cases(listing.cases, task.skip, task.shards)[task.shard]
        else:
            todo = [CaseDescriptor.from_json(c) for c in task.cases]
    except (WorkerError, WorkerFailure) as exc:
        worker.close()
        raise PortabenchError(f"listing {entry.name} cases failed on {socket.gethostname()}: {exc}") from None
    except BaseException:
        worker.close()
        raise
    ray.get(mailbox.put.remote(Opened(task.task_id, facts, listing)))
    if not todo:
        worker.close()
        return 0
    dispatcher = _dispatcher(request, entry, mode, reference, info, worker, cases_left=len(todo))
    over_budget = lambda: request.budget_s is not None and time.monotonic() - started > request.budget_s  # noqa: E731
    sent, batch, last = 0, [], time.monotonic()
    results = dispatcher.run(todo, should_stop=over_budget)
    try:
        for result in results:
            batch.append(result)
            if len(batch) >= task.batch_size or time.monotonic() - last >= task.batch_s:
                ray.get(mailbox.put.remote(Results(task.task_id, batch)))
                sent, batch, last = sent + len(batch), [], time.monotonic()
        if batch:
            ray.get(mailbox.put.remote(Results(task.task_id, batch)))
            sent += len(batch)
    except BaseException:  # cancelled, or the mailbox is gone (driver stopped): kill the workers, send nothing more
        dispatcher.kill()
        results.close()  # a generator, as in runner.session
        raise
    return sent

