"""Which Ray resources a node must offer to run a device kind, and the task options that ask for them.

A device kind (``cpu``, ``cuda``, ``gpu``, ``tpu``, ``meta``, ...) maps to a
dict of Ray resources a task of that kind requests:

* ``cuda`` and ``gpu`` (torch / JAX, TensorFlow names for NVIDIA and AMD GPUs): Ray's ``GPU`` resource;
* ``tpu``: Ray's ``TPU`` resource;
* every other kind, ``cpu`` included: the custom resource ``portabench_device_<kind>``,
  which a node advertises with ``ray start --resources='{"portabench_device_cpu": 1}'``.

``--place KIND=RES[:AMOUNT],...`` replaces a kind's resources, e.g.
``--place cuda=GPU:1,accelerator_type:H100`` (Ray's ``accelerator_type:<type>``
labels are requested at 0.001, as Ray itself does) or ``--place xla=neuron_cores:2``.
Nothing here imports Ray.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portabench.errors import PortabenchError

#: prefix of the custom resource that stands for a device kind Ray has no built-in resource for
CUSTOM_PREFIX = "portabench_device_"
#: device kinds that Ray's built-in resources describe
BUILTIN: Mapping[str, Mapping[str, float]] = {"cuda": {"GPU": 1.0}, "gpu": {"GPU": 1.0}, "tpu": {"TPU": 1.0}}
#: amount requested of a label resource such as ``accelerator_type:H100`` when no amount is given
LABEL_AMOUNT = 0.001
#: CPUs a node task reserves (it runs one run's workers, one per device, from one Ray worker)
TASK_CPUS = 1.0


@dataclass(frozen=True)
class Placement:
    """The resources a task for one device kind asks Ray for."""

    kind: str
    resources: Mapping[str, float] = field(default_factory=dict)

    def ray_options(self) -> dict[str, Any]:
        """Keyword arguments of ``remote_function.options()``: ``GPU`` goes to ``num_gpus``, the rest to
        ``resources``."""
        rest = {k: v for k, v in self.resources.items() if k not in ("GPU", "CPU")}
        options: dict[str, Any] = {"num_cpus": self.resources.get("CPU", TASK_CPUS), "resources": rest}
        if "GPU" in self.resources:
            options["num_gpus"] = self.resources["GPU"]
        return options

    def offered_by(self, totals: Mapping[str, float]) -> bool:
        """True when some node could hold the task, judged from the cluster's resource totals
        (``ray.cluster_resources()``)."""
        return all(totals.get(name, 0.0) >= amount for name, amount in self.resources.items())

    def describe(self) -> str:
        return ", ".join(f"{k}: {v:g}" for k, v in sorted(self.resources.items()))


def default_resources(kind: str) -> dict[str, float]:
    """The resources of ``kind`` unless ``--place`` says otherwise."""
    return dict(BUILTIN.get(kind, {f"{CUSTOM_PREFIX}{kind}": 1.0}))


def placement_for(kind: str, overrides: Mapping[str, Mapping[str, float]] | None = None) -> Placement:
    """The placement of a device kind (``cuda``, never ``cuda:1``)."""
    resources = dict((overrides or {}).get(kind) or default_resources(kind))
    return Placement(kind=kind, resources=resources)


def parse_place(texts: list[str]) -> dict[str, dict[str, float]]:
    """``["cuda=GPU:1,accelerator_type:H100"]`` -> ``{"cuda": {"GPU": 1.0, "accelerator_type:H100": 0.001}}``.

    An item's amount is the number after its last colon; without one it is 1
    (0.001 for ``accelerator_type:`` labels). Malformed text raises :class:`PortabenchError`.
    """
    out: dict[str, dict[str, float]] = {}
    for text in texts:
        kind, sep, spec = text.partition("=")
        kind = kind.strip()
        if not sep or not kind or ":" in kind or not spec.strip():
            raise PortabenchError(f"bad --place {text!r} (e.g. cuda=GPU:1,accelerator_type:H100)")
        resources: dict[str, float] = {}
        for item in (i.strip() for i in spec.split(",")):
            if not item:
                raise PortabenchError(f"bad --place {text!r}: empty resource")
            name, _, amount = item.rpartition(":")
            try:
                value = float(amount)
            except ValueError:
                name, value = item, (LABEL_AMOUNT if item.startswith("accelerator_type:") else 1.0)
            if not name or value <= 0:
                raise PortabenchError(f"bad --place {text!r}: {item!r} needs a name and a positive amount")
            resources[name] = value
        out[kind] = resources
    return out
