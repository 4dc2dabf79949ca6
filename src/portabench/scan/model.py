"""What ``portabench scan`` takes and gives: :class:`ScanOptions`, :class:`ScanResult`.

Statuses of a call site on a device (:data:`STATUSES`, worst first):

- ``failing``: every case of the function failed on the device (category and one message kept);
- ``partial``: some cases failed;
- ``broken case``: the function's cases failed on the reference device too (no verdict);
- ``untested``: the function has cases (or may have) but no store has results for it on the device;
- ``no cases``: portabench has no case for it (the listing says so, or a run recorded ``no_cases``);
- ``portable``: every case passed.

A method candidate whose receiver type is unknown gets no status (it is reported as unresolved).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from portabench.mining.sites import CallSite, DeviceString, Setting

FAILING, PARTIAL, BROKEN, UNTESTED, NO_CASES, PORTABLE = (
    "failing",
    "partial",
    "broken case",
    "untested",
    "no cases",
    "portable",
)
STATUSES = (FAILING, PARTIAL, BROKEN, UNTESTED, NO_CASES, PORTABLE)

#: ``--fail-on`` level -> the statuses that make the exit status non-zero.
FAIL_ON: dict[str, tuple[str, ...]] = {
    "failing": (FAILING,),
    "partial": (FAILING, PARTIAL),
    "untested": (FAILING, PARTIAL, UNTESTED),
}
#: Exit status of ``portabench scan`` when ``--fail-on`` is met (2 is a usage error, as everywhere).
EXIT_FAIL_ON = 1


@dataclass
class ScanOptions:
    """Options of one scan (the CLI's flags).

    Attributes:
        paths: files and directories to scan.
        frameworks: frameworks to look for; empty: every framework the registry knows ("auto").
        stores: result stores joined, in order of precedence.
        devices: device kinds reported; empty: every non-reference device in the stores
            (``cpu`` too when the stores hold nothing else).
        fail_on: ``failing`` | ``partial`` | ``untested`` | None.
        listings: framework -> path of a saved API listing (else fetched from a worker, cached).
        workers: mining processes (None: one per core).
    """

    paths: list[str]
    frameworks: list[str] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    fail_on: str | None = None
    listings: dict[str, str] = field(default_factory=dict)
    workers: int | None = None


@dataclass(frozen=True)
class Verdict:
    """Status of one function on one device, from the stores."""

    status: str
    category: str | None = None
    message: str | None = None
    columns: tuple[str, ...] = ()  # the store columns it comes from ("torch 2.13 cuda eager")
    store: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "category": self.category,
            "message": self.message,
            "columns": list(self.columns),
            "store": self.store,
        }


@dataclass
class ScanResult:
    """Everything a scan found, ready for the writers (text, JSON, SARIF, HTML).

    ``verdicts[(framework, function)][device]`` is the :class:`Verdict` of every function
    some resolved site covers; a site's status on a device is the worst over the names
    it covers that have results, else ``untested``/``no cases``. A device found in the
    stores is reported only for the frameworks that have runs on it (:meth:`applies`).
    """

    options: ScanOptions
    files: int
    files_skipped: int
    frameworks: list[str]
    devices: list[str]
    sites: list[CallSite]
    settings: list[Setting]
    device_strings: list[DeviceString]
    verdicts: dict[tuple[str, str], dict[str, Verdict]]
    listing_versions: dict[str, str] = field(default_factory=dict)
    with_cases: dict[str, frozenset[str]] = field(default_factory=dict)  # framework -> names with cases (listing)
    canonical: dict[str, dict[str, str]] = field(default_factory=dict)  # framework -> alias -> canonical name
    #: device -> frameworks with runs there (devices taken from the stores); a device not in it
    #: (named with ``--devices``) applies to every framework
    device_frameworks: dict[str, set[str]] = field(default_factory=dict)
    file_notes: list[str] = field(default_factory=list)  # from reading the files and listings
    store_notes: list[str] = field(default_factory=list)  # from the last join with the stores
    run_summaries: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return self.file_notes + self.store_notes

    @property
    def resolved_sites(self) -> list[CallSite]:
        return [s for s in self.sites if s.resolution != "unresolved"]

    @property
    def unresolved_sites(self) -> list[CallSite]:
        return [s for s in self.sites if s.resolution == "unresolved"]

    def applies(self, framework: str, device: str) -> bool:
        """Whether ``device`` is reported for ``framework`` (a JAX ``tpu`` run says nothing of torch)."""
        frameworks = self.device_frameworks.get(device)
        return frameworks is None or framework in frameworks

    def devices_for(self, framework: str) -> list[str]:
        return [d for d in self.devices if self.applies(framework, d)]

    def site_status(self, site: CallSite, device: str) -> Verdict:
        """The verdict of ``site`` on ``device`` (worst over the names it covers)."""
        verdicts = (self.verdicts.get((site.framework, name), {}).get(device) for name in site.covers)
        found = [v for v in verdicts if v is not None]
        if not found:
            known = self.with_cases.get(site.framework)
            return Verdict(NO_CASES if known and not known.intersection(site.covers) else UNTESTED)
        measured = [v for v in found if v.status not in (UNTESTED, NO_CASES)]
        pool = measured or found
        return min(pool, key=lambda v: STATUSES.index(v.status))

    @cached_property
    def _functions(self) -> dict[tuple[str, str], list[CallSite]]:
        out: dict[tuple[str, str], list[CallSite]] = {}
        for site in self.resolved_sites:
            out.setdefault((site.framework, site.name), []).append(site)
        return out

    def functions(self) -> dict[tuple[str, str], list[CallSite]]:
        """Resolved sites grouped by (framework, name), in order of first appearance (computed once:
        call it after the sites are final)."""
        return self._functions

    def function_status(self, key: tuple[str, str], device: str) -> Verdict:
        return self.site_status(self.functions()[key][0], device)

    def fail_on_met(self) -> bool:
        """True when ``options.fail_on`` is set and some resolved site has one of its statuses."""
        if not self.options.fail_on:
            return False
        bad = FAIL_ON[self.options.fail_on]
        return any(
            self.site_status(s, d).status in bad for s in self.resolved_sites for d in self.devices_for(s.framework)
        )
