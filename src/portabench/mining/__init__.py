"""Usage mining: how often is each framework function called in real code?

Pure :mod:`ast`, the framework is never imported. One job per module:

- :mod:`~portabench.mining.sources` reads sources (directories, files, installed
  distributions, jsonl/parquet corpora);
- :mod:`~portabench.mining.listing` is a framework's API listing (fetched from a worker, cached);
- :mod:`~portabench.mining.imports` turns dotted names into canonical framework names;
- :mod:`~portabench.mining.scopes` records what each scope binds (per-scope resolution);
- :mod:`~portabench.mining.methods` types method receivers and links method calls;
- :mod:`~portabench.mining.settings` recognises portability settings and device strings;
- :mod:`~portabench.mining.sites` walks one file once: call sites, settings, device strings;
- :mod:`~portabench.mining.pool` runs that walk over a process pool;
- :mod:`~portabench.mining.miner` sums it into a frequency table in :func:`mine_sources`;
- :mod:`~portabench.mining.table` is the frequency-table format (:class:`MiningResult`,
  :func:`load_frequency_table`).

See docs/mining.md for the resolution rules and their limits.
"""

from portabench.mining.listing import ApiListing, fetch_listing
from portabench.mining.methods import METHOD_OWNER
from portabench.mining.miner import mine_sources
from portabench.mining.sites import (
    CallSite,
    DeviceString,
    FileAnalysis,
    Setting,
    analyze_source,
)
from portabench.mining.table import (
    FORMAT,
    MiningResult,
    default_table_path,
    load_frequency_table,
    validate_frequency_table,
)

__all__ = [
    "FORMAT",
    "METHOD_OWNER",
    "ApiListing",
    "CallSite",
    "DeviceString",
    "FileAnalysis",
    "MiningResult",
    "Setting",
    "analyze_source",
    "default_table_path",
    "fetch_listing",
    "load_frequency_table",
    "mine_sources",
    "validate_frequency_table",
]
