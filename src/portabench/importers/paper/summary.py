"""What an import of the paper's data did: per run and per skipped file (:class:`ImportSummary`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunImport:
    """What one imported run holds."""

    run_id: str
    framework: str
    device: str
    host: str
    report: str  # the failure report it came from (relative to the imported folder)
    timing_files: list[str]
    cases: int  # cases in the data for this run (recorded or already present)
    new_cases: int  # cases written by this import (0 when re-importing)
    passed: int
    failed: int
    not_recorded: int  # skipped / xfailed tests: not cases
    with_timings: int
    already_present: bool
    unknown: int = 0  # timing-only runs: cases whose outcome the data does not record
    harness: int = 0  # failures of the paper's test code itself (HARNESS_ERRORS): broken cases
    unmatched: int = 0  # timing-only runs: timing entries no failure report names (own case ids, unpaired)


@dataclass
class ImportSummary:
    """The result of :func:`portabench.importers.paper.import_paper`."""

    path: str
    runs: list[RunImport] = field(default_factory=list)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    notes: list[str] = field(default_factory=list)

    @property
    def runs_imported(self) -> int:
        """Number of runs in the data (new or already present)."""
        return len(self.runs)

    @property
    def cases_per_run(self) -> dict[str, int]:
        """run id -> cases of the run."""
        return {r.run_id: r.cases for r in self.runs}

    def lines(self) -> list[str]:
        """The summary as lines for the terminal."""
        out = [f"imported {self.runs_imported} run(s) from {self.path}"]
        for r in self.runs:
            state = " (already present)" if r.already_present else ""
            if r.unknown:
                out.append(f"  {r.run_id}: {r.cases} cases with timings only (outcome unknown; "
                           f"{r.unmatched} not named by any failure report){state}")
                continue
            harness = f", {r.harness} harness errors kept as broken cases" if r.harness else ""
            out.append(
                f"  {r.run_id}: {r.cases} cases ({r.passed} passed, {r.failed} failed{harness}, "
                f"{r.with_timings} with timings; {r.not_recorded} skipped tests not recorded){state}"
            )
        if self.skipped_files:
            out.append(f"skipped {len(self.skipped_files)} file(s):")
            out.extend(f"  {p}: {why}" for p, why in self.skipped_files)
        out.extend(f"note: {n}" for n in self.notes)
        return out
