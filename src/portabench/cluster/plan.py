"""The study's plan as units of cluster work, and how one run's cases are cut into shards.

A :class:`RunUnit` is one (framework, device kind, mode) run with its
request and placement, as a local study would run it. Which device kinds a
framework is studied on comes from the cluster: ``cpu`` (the reference) plus
every kind of ``--devices``, or by default every accelerator kind the framework
can target whose resources some node offers. Nothing here imports Ray.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from portabench.cases import CaseDescriptor
from portabench.cluster.options import ClusterOptions
from portabench.cluster.resources import Placement, placement_for
from portabench.errors import PortabenchError
from portabench.frameworks import FrameworkEntry, get_framework, installed_frameworks
from portabench.runner.session import RunRequest

if TYPE_CHECKING:
    from portabench.study import StudyOptions


@dataclass(frozen=True)
class RunUnit:
    """One run of the study, to be placed on nodes offering ``placement``."""

    framework: str
    device: str
    mode: str
    request: RunRequest
    placement: Placement

    @property
    def label(self) -> str:
        return f"{self.framework} {self.mode} on {self.device}"


@dataclass
class ClusterPlan:
    units: list[RunUnit]
    skipped: dict[str, str]  # framework -> why it could not be planned
    unavailable: dict[str, list[str]]  # framework -> device kinds no node offers


def shard_cases(
    cases: Sequence[CaseDescriptor], skip: frozenset[str] | set[str], shards: int
) -> list[list[CaseDescriptor]]:
    """The cases not in ``skip``, dealt round-robin into ``shards`` lists (the same on the node and the driver)."""
    todo = [c for c in cases if c.case_id not in skip]
    return [todo[i::shards] for i in range(shards)]


def cluster_devices(entry: FrameworkEntry, devices: Sequence[str] | None,
                    offered: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """(devices to run, devices asked for or expected that no node offers); ``cpu`` first.

    In a cluster a device is a kind (``cuda``, or with flags ``gpu+soft``): each node task sees
    the devices Ray gives it, so an index (``cuda:1``) would name a device of one node only.
    ``offered`` is asked about the kind (the registry reads the string: ``gpu+soft`` is a ``gpu``).
    Without ``devices``, the framework's expected targets (registry) are wanted.
    """
    if devices is not None:
        specs = [entry.parse_device(d) for d in devices]
        indexed = [s.text for s in specs if s.indexed]
        if indexed:
            raise PortabenchError(f"a cluster study names device kinds, not single devices ({', '.join(indexed)}); "
                                  "Ray decides which device of a node a task gets")
        wanted = list(dict.fromkeys(["cpu", *devices]))
    else:
        wanted = ["cpu", *entry.expected_targets]
    chosen = [d for d in wanted if offered(entry.device_kind(d))]
    missing = [d for d in wanted if not offered(entry.device_kind(d))]
    return chosen, missing


def plan_units(study: StudyOptions, options: ClusterOptions, totals: Mapping[str, float],
               request_for: Callable[..., RunRequest]) -> ClusterPlan:
    """Every run of the study, for the cluster whose resource totals are ``totals``.

    ``request_for`` is :func:`portabench.study.request_for` (shared with local
    studies, so a cluster run has the same request, hence the same ``config``).
    Frameworks are looked up on the driver, which needs them installed only to
    draw the default sample (``--preset``, ``--functions`` and ``--sample`` do not).
    """
    from portabench.selection import resolve_manifest

    frameworks, devices, modes = study.frameworks, study.devices, study.modes
    entries = [get_framework(f) for f in frameworks] if frameworks else installed_frameworks()
    if not entries:
        raise PortabenchError("no framework named (--framework) and none installed on the driver")
    plan = ClusterPlan(units=[], skipped={}, unavailable={})
    placements: dict[str, Placement] = {}

    def offered(kind: str) -> bool:
        placements.setdefault(kind, placement_for(kind, options.place))
        return placements[kind].offered_by(totals)

    for entry in entries:
        try:
            # whole models (--models) are not planned on a cluster
            manifest = resolve_manifest(entry, replace(study.selection, models=None), specs=list(study.cases.specs))
        except PortabenchError as exc:
            if frameworks:
                raise
            plan.skipped[entry.name] = str(exc)
            continue
        chosen, missing = cluster_devices(entry, devices, offered)
        plan.unavailable[entry.name] = missing
        if "cpu" not in chosen:
            raise PortabenchError(f"no node of the cluster offers the reference device cpu "
                                  f"({placements['cpu'].describe()}); see docs/cluster.md")
        for mode in modes or [entry.modes[0]]:
            mode = entry.check_mode(mode)
            for device in chosen:
                request = request_for(entry, device, None if device == "cpu" else "cpu", mode, manifest,
                                      study.cases, resume=not study.fresh)
                plan.units.append(RunUnit(entry.name, device, mode, request, placements[entry.device_kind(device)]))
    return plan


def config_without_cluster(config: Mapping[str, Any]) -> dict[str, Any]:
    """A run's ``config`` minus the cluster's node record: what must be equal to resume or reuse a run."""
    return {k: v for k, v in config.items() if k != "cluster"}
