"""Where a case's reference runs: shared by the worker's function cases and the adapters' model cases."""

from __future__ import annotations

from portabench.frameworks import FRAMEWORKS
from portabench.frameworks.base import Adapter


def default_mode(adapter: Adapter) -> str:
    """The adapter's framework's default mode (``eager`` for an adapter the registry does not name)."""
    entry = FRAMEWORKS.get(adapter.name)
    return entry.modes[0] if entry is not None else "eager"


def reference_device(adapter: Adapter) -> str | None:
    """Where the reference runs (eagerly), or None on a reference run.

    The reference is the framework's default mode (eager) on ``adapter.reference``;
    in another mode (jit, compile...) it may be the device under test itself: then
    the run compares the mode with eager on the same device.
    """
    if adapter.reference is None:
        return None
    if adapter.reference == adapter.device and adapter.mode == default_mode(adapter):
        return None
    return adapter.reference
