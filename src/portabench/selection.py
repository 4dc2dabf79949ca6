"""Which functions a command works on: ``--preset`` / ``--functions`` / ``--sample`` (shared by sample, run, study)."""

from __future__ import annotations

from pathlib import Path

from portabench.errors import PortabenchError
from portabench.frameworks import FrameworkEntry


def resolve_manifest(entry: FrameworkEntry, preset: str | None, functions: str | None, sample: str | None,
                     seed: int = 0, per_decile: int = 5, top: int = 20, specs: list[str] | None = None,
                     table_path: str | None = None):
    """Return the manifest to run (``portabench.sampling.Manifest``).

    At most one of ``preset`` ("paper" | "all" | "default"), ``functions``
    (comma-separated qualified names) and ``sample`` (a manifest file) may be
    given; none means the default sample drawn from the shipped frequency table.
    A manifest named "all" has no functions: it means every function with cases.
    """
    from portabench import sampling
    from portabench.mining import load_frequency_table

    given = [x for x in (preset, functions, sample) if x]
    if len(given) > 1:
        raise PortabenchError("give only one of --preset, --functions and --sample")
    if sample:
        manifest = sampling.load_manifest(Path(sample))
        if manifest.framework != entry.name:
            raise PortabenchError(f"manifest {sample} is for {manifest.framework}, not {entry.name}")
        return manifest
    if table_path and (preset not in (None, "default") or functions):
        raise PortabenchError("--table goes with the default sample only")
    table = load_frequency_table(table_path or entry.name)
    if functions:
        names = [n.strip() for n in functions.split(",") if n.strip()]
        if not names:
            raise PortabenchError("--functions needs at least one name")
        return sampling.listed_manifest(entry.name, names, table)
    if preset in (None, "default"):
        from portabench.runner.session import query_worker

        coverage = query_worker(entry.name, "cpu", "coverage", specs=list(specs or []))
        return sampling.sample_functions(entry.name, table, per_decile=per_decile, top=top, seed=seed,
                                         known=set(coverage["api"]) | set(coverage["with_cases"]),
                                         with_cases=set(coverage["with_cases"]))
    if preset in ("paper", "all"):
        return sampling.preset_manifest(entry.name, preset, table)
    raise PortabenchError(f"unknown preset {preset!r} (choose paper, all or default)")
