"""One study across a Ray cluster whose nodes hold different devices (``portabench study --cluster``).

The study's plan (framework, device, mode, sample) becomes Ray tasks placed by
resources on the nodes that offer each device; on every node the cases run
through portabench's own runner (isolated worker processes with deadlines and
recycling), never inside the Ray worker process. Results flow back to the
driver, which alone writes the store. One module per job:

* :mod:`~portabench.cluster.options` -- the cluster options of ``study`` (no Ray import);
* :mod:`~portabench.cluster.resources` -- which Ray resources a node must offer for a device kind;
* :mod:`~portabench.cluster.plan` -- the study's runs as units of work, and how a run is cut into shards;
* :mod:`~portabench.cluster.messages` -- the dataclasses a node task sends and receives;
* :mod:`~portabench.cluster.mailbox` -- the actor through which node tasks send results to the driver;
* :mod:`~portabench.cluster.node` -- the Ray task that runs one shard of a run on a node;
* :mod:`~portabench.cluster.driver` -- submits the tasks, writes the store, re-places lost work;
* :mod:`~portabench.cluster.study` -- the entry point :func:`run_study` calls with ``--cluster``.

Ray is an optional dependency (``pip install 'portabench[ray]'``); only this
package imports it, and only when ``--cluster`` is given.
"""

from __future__ import annotations

from types import ModuleType

from portabench.errors import PortabenchError

#: what to install for ``--cluster``
RAY_INSTALL = "pip install 'portabench[ray]'"


def require_ray() -> ModuleType:
    """Import and return :mod:`ray`; a one-line :class:`PortabenchError` says what to install when it is missing."""
    try:
        import ray
    except ImportError:
        raise PortabenchError(f"--cluster needs Ray, which is not installed ({RAY_INSTALL})") from None
    return ray
