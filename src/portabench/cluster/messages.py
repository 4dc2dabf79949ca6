"""What a node task receives and sends back: plain dataclasses, pickled by Ray.

A node task gets a :class:`ShardTask`. Through the mailbox it first sends one
:class:`Opened` (the node's facts and, for the task that opens a run, the case
listing), then :class:`Results` batches as cases finish. Every message carries
the ``task_id`` of the task that sent it, so the driver knows which shard's
cases are done.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from portabench.protocol import ListingReply
from portabench.runner.session import RunRequest
from portabench.store import CaseResult


@dataclass(frozen=True)
class ShardTask:
    """One node task: a run's request and which of its cases to run.

    With ``cases`` None the task *opens* the run: it lists the cases, drops
    those in ``skip`` (already recorded by a resumed run) and runs share
    ``shard`` of ``shards`` of the rest (see :func:`portabench.cluster.plan.shard_cases`).
    Otherwise it runs exactly ``cases`` (case JSON). ``expect`` holds the facts
    the node must match (framework_version, device_name, portabench_version):
    a run is never spread over different versions or device models.
    """

    task_id: str
    request: RunRequest
    cases: list[dict[str, Any]] | None = None
    skip: frozenset[str] = frozenset()
    shard: int = 0
    shards: int = 1
    expect: dict[str, str] = field(default_factory=dict)
    batch_size: int = 32  # results per message at most
    batch_s: float = 0.5  # a partial batch is sent after this many seconds


@dataclass(frozen=True)
class NodeFacts:
    """Where a shard ran: recorded in the run's ``config["cluster"]["nodes"]``."""

    node_id: str
    host: str
    ip: str
    platform: str
    python: str
    portabench_version: str
    framework_version: str
    device_kind: str
    device_name: str
    omp_num_threads: str | None = None  # Ray sets it to the CPUs the task reserves; the workers inherit it
    numerics: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The JSON kept in the store (numerics are the run's own column)."""
        return {k: v for k, v in asdict(self).items() if k != "numerics"}


@dataclass(frozen=True)
class Opened:
    """A node task started its worker; ``listing`` (the ``list_cases`` reply) only from a task that opens a run."""

    task_id: str
    facts: NodeFacts
    listing: ListingReply | None = None


@dataclass(frozen=True)
class Results:
    """Case results, in the order they finished on the node."""

    task_id: str
    results: list[CaseResult]
