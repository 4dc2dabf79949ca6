"""The actor through which node tasks send messages to the driver.

Node tasks ``put`` each message and wait for the actor's acknowledgement, so a
message sent before a node died is already in the mailbox when the driver
learns of the death; the driver ``take``\\ s everything pending before it
decides what a lost task left unfinished. The actor lives on the driver's node
(it dies only with the driver) and uses no CPU slot. It works over Ray Client
(``ray://``), which streaming generators do not.
"""

from __future__ import annotations

from typing import Any


class Mailbox:
    """A list of messages: ``put`` appends, ``take`` returns and clears (one actor, calls served in order)."""

    def __init__(self) -> None:
        self._items: list[Any] = []

    def put(self, item: Any) -> None:
        self._items.append(item)

    def take(self) -> list[Any]:
        items, self._items = self._items, []
        return items


def start_mailbox(ray: Any) -> Any:
    """Start the mailbox actor on the driver's node; returns its handle."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    actor = ray.remote(num_cpus=0, max_restarts=0)(Mailbox)
    try:
        here = ray.get_runtime_context().get_node_id()
    except Exception:  # Ray Client: the driver is not on a node; Ray picks one (the head, in practice)
        return actor.remote()
    return actor.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=True)).remote()
