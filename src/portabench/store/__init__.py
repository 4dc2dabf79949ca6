"""Results storage: one SQLite file, versioned with ``PRAGMA user_version``.

See ``docs/store.md`` for the schema. Public API:
:class:`Store`, :class:`RunMeta`, :class:`CaseResult`, :func:`merge_stores`,
:func:`export_store`.
"""

from portabench.store.models import CaseResult, RunMeta
from portabench.store.sqlite import Store
from portabench.store.transfer import export_store, merge_stores

__all__ = ["CaseResult", "RunMeta", "Store", "export_store", "merge_stores"]
