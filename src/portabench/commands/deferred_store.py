"""A results store that a writing command creates only when it first writes.

``run`` and ``study`` open their store with :class:`DeferredStore`: an existing
file is opened (and checked) at once, as before; a new file is created only when
the run really begins, so a command that fails first (unknown device or function,
a worker that cannot start) leaves no empty store behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from portabench.store import RunMeta, Store


class DeferredStore:
    """Stands in for :class:`portabench.store.Store`; opens (creating) it on first use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._store: Store | None = Store(self.path) if self.path.exists() else None

    def _open(self) -> Store:
        if self._store is None:
            self._store = Store(self.path)
        return self._store

    def runs(self) -> list[RunMeta]:
        """The store's runs; none (and no file created) while it does not exist."""
        if self._store is None and not self.path.exists():
            return []
        return self._open().runs()

    def find_resumable(self, framework: str, device: str, mode: str) -> RunMeta | None:
        """As :meth:`Store.find_resumable`; None (and no file created) while the store does not exist."""
        if self._store is None and not self.path.exists():
            return None
        return self._open().find_resumable(framework, device, mode)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Store:
        return cast(Store, self)  # it stands in for a Store (every other attribute is the opened store's)

    def __exit__(self, *exc: object) -> None:
        self.close()
