"""The cluster options of ``portabench study`` as one dataclass (no Ray import here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from portabench.errors import PortabenchError

#: how many times the driver re-places a run's unfinished cases after losing nodes, per shard of the run
REPLACEMENTS_PER_SHARD = 3


@dataclass(frozen=True)
class ClusterOptions:
    """``--cluster ADDRESS``, ``--shards N`` and ``--place KIND=RES,...`` of ``portabench study``."""

    address: str  # "auto", "ray://host:10001", or a GCS "host:port"
    shards: int = 1  # nodes one run is cut over
    place: dict[str, dict[str, float]] = field(default_factory=dict)  # device kind -> Ray resources
    max_replacements: int = REPLACEMENTS_PER_SHARD  # per shard

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise PortabenchError(f"--shards must be at least 1, not {self.shards}")

