"""Usage mining: how often is each framework function called in real code?

Pure :mod:`ast`, the framework is never imported. One job per module:

- :mod:`~portabench.mining.sources` reads sources (directories, files, installed
  distributions, jsonl/parquet corpora);
- :mod:`~portabench.mining.imports` resolves a module's import aliases;
- :mod:`~portabench.mining.calls` counts calls (and method candidates) of a module;
- :mod:`~portabench.mining.miner` ties them together in :func:`mine_sources`;
- :mod:`~portabench.mining.table` is the frequency-table format (:class:`MiningResult`,
  :func:`load_frequency_table`).

See docs/mining.md for the resolution rules and their limits.
"""

from portabench.mining.miner import mine_sources
from portabench.mining.table import (
    FORMAT,
    METHOD_OWNER,
    MiningResult,
    default_table_path,
    load_frequency_table,
    validate_frequency_table,
)

__all__ = [
    "FORMAT",
    "METHOD_OWNER",
    "MiningResult",
    "default_table_path",
    "load_frequency_table",
    "mine_sources",
    "validate_frequency_table",
]
