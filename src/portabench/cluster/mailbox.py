"""The actor through which node tasks send messages to the driver.

Node tasks ``put`` each message and wait for the actor's acknowledgement, so a
message sent before a node died is already in the mailbox when the driver
learns of the death; the driver ``take``\\ s everything pending before it
decides what a lost task left unfinished. The actor lives on the head node
(it dies only with the cluster) and uses no CPU slot. It works over Ray Client
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
    """Start the mailbox actor on the head node (it lives as long as the cluster; worker nodes may be lost
    mid-study), or on the driver's node when no head is advertised; returns its handle."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    actor = ray.remote(num_cpus=0, max_restarts=0)(Mailbox)
    head = next((n["NodeID"] for n in ray.nodes()
                 if n.get("Alive") and "node:__internal_head__" in (n.get("Resources") or {})), None)
    if head is None:
        try:
            head = ray.get_runtime_context().get_node_id()
        except Exception:  # Ray Client without a head resource: Ray picks a node
            return actor.remote()
    return actor.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=head, soft=False)).remote()
