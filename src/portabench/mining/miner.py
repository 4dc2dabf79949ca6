"""Mining a list of sources: every file parsed and walked once, over a process pool, counts summed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from portabench.frameworks import get_framework
from portabench.mining.imports import Naming
from portabench.mining.listing import ApiListing
from portabench.mining.pool import map_files
from portabench.mining.sites import FileAnalysis
from portabench.mining.sources import FileText, resolve_source
from portabench.mining.table import MiningResult


@dataclass
class FileCounts:
    """What one file adds to a frequency table (small, so it crosses process boundaries cheaply)."""

    parsed: bool
    calls: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    decorators: Counter[str] = field(default_factory=Counter)
    values: Counter[str] = field(default_factory=Counter)


def count_file(analysis: FileAnalysis) -> FileCounts:
    """Counts of one analysed file: calls (typed method calls under their linked name), unresolved
    method candidates, and indirect uses (decorators, values) each under their own kind."""
    out = FileCounts(analysis.parsed)
    for site in analysis.sites:
        if site.kind == "call" or (site.kind == "method" and site.resolution != "unresolved"):
            out.calls[site.name] += 1
        elif site.kind == "method":
            out.methods[site.name] += 1
        elif site.kind == "decorator":
            out.decorators[site.name] += 1
        elif site.kind == "value":
            out.values[site.name] += 1
    return out


def mine_sources(
    framework: str,
    sources: list[str],
    progress: Callable[[int], None] | None = None,
    listing: ApiListing | None = None,
    workers: int | None = None,
) -> MiningResult:
    """Count how often each function of ``framework`` is used in ``sources``.

    Args:
        framework: ``torch``, ``jax`` or ``tensorflow`` (aliases accepted); its import
            roots come from :attr:`FrameworkEntry.mining_roots` (plus re-exporting packages,
            :data:`portabench.mining.imports.REEXPORT_ROOTS`). The framework itself is never
            imported: mining is pure :mod:`ast`.
        sources: source strings, see :mod:`portabench.mining.sources`. All are resolved
            before any is read, so a bad source fails fast with :class:`PortabenchError`.
        progress: called with the number of files done so far after each file.
        listing: the framework's API listing (:func:`portabench.mining.listing.fetch_listing`);
            with one, names are checked against it, aliases canonicalised, star imports
            resolved and callables passed as values counted; without, names are not checked.
        workers: processes (default: one per core).

    Returns:
        a :class:`MiningResult`. Files that cannot be read, decoded or parsed are counted
        in ``files_skipped`` and otherwise ignored.
    """
    entry = get_framework(framework)
    naming = Naming.for_frameworks([entry.name], {entry.name: listing})
    resolved = [resolve_source(spec) for spec in sources]

    def files() -> Iterator[tuple[str, FileText]]:
        for source in resolved:
            for text in source.files():
                yield "", text

    total = FileCounts(True)
    files_read = files_skipped = 0
    for done, counts in enumerate(map_files(files(), naming, count_file, workers), start=1):
        if counts.parsed:
            files_read += 1
            total.calls.update(counts.calls)
            total.methods.update(counts.methods)
            total.decorators.update(counts.decorators)
            total.values.update(counts.values)
        else:
            files_skipped += 1
        if progress is not None:
            progress(done)
    return MiningResult(
        framework=entry.name,
        counts=dict(total.calls),
        method_candidates=dict(total.methods),
        files_read=files_read,
        files_skipped=files_skipped,
        sources=[source.describe() for source in resolved],
        source_specs=list(sources),
        indirect={"decorator": dict(total.decorators), "value": dict(total.values)},
    )
