"""Running a scan: files -> call sites (one walk per file, over a process pool) -> joined with stores."""

from __future__ import annotations

from portabench.errors import PortabenchError
from portabench.frameworks import FRAMEWORKS, get_framework
from portabench.mining.imports import Naming
from portabench.mining.listing import ApiListing, fetch_listing
from portabench.mining.pool import map_files
from portabench.mining.sites import FileAnalysis
from portabench.scan.files import python_files, read_files
from portabench.scan.model import FAIL_ON, ScanOptions, ScanResult
from portabench.scan.statuses import read_stores


def _keep(analysis: FileAnalysis) -> FileAnalysis:
    """The pool's per-file summary for a scan: the whole analysis."""
    return analysis


def load_listings(options: ScanOptions, frameworks: list[str], notes: list[str]) -> dict[str, ApiListing | None]:
    """Listings given as files, else fetched from a worker (cached); ``None`` (names unchecked) for a
    framework that is not installed here."""
    listings: dict[str, ApiListing | None] = {}
    for fw in frameworks:
        if fw in options.listings:
            listings[fw] = ApiListing.load(options.listings[fw])
        elif get_framework(fw).is_installed():
            listings[fw] = fetch_listing(fw)
        else:
            listings[fw] = None
            notes.append(f"{fw} is not installed here: its names were not checked against an API listing")
    return listings


def scan(options: ScanOptions) -> ScanResult:
    """Scan ``options.paths`` and join the call sites with ``options.stores``.

    Raises :class:`PortabenchError` for a missing path, store or listing, an unknown
    framework or ``--fail-on`` level; stores are only read.
    """
    if options.fail_on is not None and options.fail_on not in FAIL_ON:
        raise PortabenchError(f"unknown --fail-on level {options.fail_on!r} (choose from {', '.join(FAIL_ON)})")
    frameworks = [get_framework(f).name for f in options.frameworks] or list(FRAMEWORKS)
    for fw in options.listings:
        get_framework(fw)
    files = python_files(options.paths)
    if not files:
        raise PortabenchError(f"no Python files in {', '.join(options.paths)}")
    notes: list[str] = []
    listings = load_listings(options, frameworks, notes)
    naming = Naming.for_frameworks(frameworks, listings)
    result = ScanResult(options=options, files=0, files_skipped=0, frameworks=[], devices=[], sites=[],
                        settings=[], device_strings=[], verdicts={},
                        listing_versions={fw: ls.version for fw, ls in listings.items() if ls is not None},
                        with_cases={fw: ls.with_cases for fw, ls in listings.items() if ls is not None})
    used: set[str] = set()
    for analysis in map_files(read_files(files), naming, _keep, options.workers):
        if not analysis.parsed:
            result.files_skipped += 1
            notes.append(f"{analysis.path}: could not be read or parsed (skipped)")
            continue
        result.files += 1
        used |= analysis.frameworks
        result.sites += analysis.sites
        result.settings += analysis.settings
        result.device_strings += analysis.devices
    result.frameworks = [fw for fw in frameworks if fw in used]

    result.file_notes = notes
    result.canonical = {fw: ls.aliases for fw, ls in listings.items() if ls is not None}
    return join_results(result)


def join_results(result: ScanResult) -> ScanResult:
    """(Re)read the stores of ``result.options`` and set ``verdicts`` and ``devices`` (notes appended)."""
    options = result.options

    def canonical(framework: str, name: str) -> str:
        return result.canonical.get(framework, {}).get(name, name)

    verdicts, store_devices = read_stores(options.stores, canonical)
    covered = {(s.framework, n) for s in result.resolved_sites for n in s.covers}
    result.verdicts = {key: by for key, by in verdicts.items() if key in covered}
    if options.devices:
        result.devices = list(dict.fromkeys(options.devices))
        result.device_frameworks = {}
    else:
        result.devices = list(store_devices)
        result.device_frameworks = store_devices
    result.store_notes = []
    if not options.stores:
        result.store_notes.append("no store given (--store): every call site is untested")
    for device in result.devices:
        if not any(device in by for by in verdicts.values()):
            result.store_notes.append(f"the stores hold no results on {device}: every call site is untested there")
    return result
