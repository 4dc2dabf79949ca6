"""Mining throughput: files per second of ``mine_sources`` with 1 and with every core, and its memory.

The corpus is assembled from real code: the first ``--files`` ``*.py`` files (sorted by
path) under ``--root`` (default: this interpreter's site-packages, which holds torch,
jax, tensorflow, keras and their dependencies — about 28,000 files here). Each
configuration mines the same files for ``--framework`` with the framework's API listing
when ``--listing`` is given (as ``portabench scan`` does), else without.

Printed per worker count: wall time, files/s, the time 100,000 such files would take at
that rate; CPU time (this process and its workers) per file, and the time 100,000 files
would take if the cores the workers use were idle (CPU time / cores — the machine this was
written on is shared, so wall time overstates it); peak RSS of the parent (sampled as files complete, to show it stays flat) and
of the largest worker, and the 1-minute load average before the run (the machine may be
shared). ``--json PATH`` writes the same as JSON.

    PYTHONPATH=src python benchmarks/mining_throughput.py --files 20000 --workers 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import site
import sys
import time
from pathlib import Path


def corpus(roots: list[str], n: int) -> list[str]:
    files: list[str] = []
    for root in roots:
        files += sorted(str(p) for p in Path(root).rglob("*.py") if p.is_file())
        if len(files) >= n:
            break
    if len(files) < n:
        sys.exit(f"only {len(files)} .py files under {roots}; asked for {n}")
    return files[:n]


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s() -> float:
    """User + system CPU seconds of this process and of its waited-for children (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(framework: str, files: list[str], workers: int, listing_path: str | None) -> dict:
    from portabench.mining import mine_sources
    from portabench.mining.listing import ApiListing

    listing = ApiListing.load(listing_path) if listing_path else None
    samples: list[tuple[int, float]] = []
    step = max(1, len(files) // 10)

    def progress(done: int) -> None:
        if done % step == 0:
            samples.append((done, round(rss_mib(), 1)))

    load = os.getloadavg()[0]
    cpu_before = _cpu_s()
    start = time.perf_counter()
    result = mine_sources(framework, files, progress=progress, listing=listing, workers=workers)
    wall = time.perf_counter() - start
    cpu = _cpu_s() - cpu_before
    rate = len(files) / wall
    used = min(workers, os.cpu_count() or 1)
    return {
        "workers": workers, "files": len(files), "files_read": result.files_read, "files_skipped": result.files_skipped,
        "wall_s": round(wall, 1), "files_per_s": round(rate, 1), "projected_100k_s": round(100_000 / rate),
        "cpu_s": round(cpu, 1), "cpu_ms_per_file": round(1000 * cpu / len(files), 2),
        "projected_100k_s_if_cores_idle": round(100_000 * cpu / len(files) / used),
        "parent_rss_mib_by_files_done": samples,
        "max_worker_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "load_avg_1min_before": round(load, 2), "distinct_functions": len(result.counts),
        "calls": sum(result.counts.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--framework", default="torch")
    parser.add_argument("--listing", help="API listing JSON (portabench api F -o PATH)")
    parser.add_argument("--root", action="append", help="directory holding the corpus (default: site-packages)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    files = corpus(args.root or site.getsitepackages(), args.files)
    size = sum(os.path.getsize(f) for f in files) / 2**20
    print(f"corpus: {len(files)} files, {size:.0f} MiB, cpus {os.cpu_count()}")
    rows = []
    for workers in [int(w) for w in args.workers.split(",")]:
        row = measure(args.framework, files, workers, args.listing)
        rows.append(row)
        print(json.dumps(row))
    if args.json:
        Path(args.json).write_text(json.dumps({"corpus_files": len(files), "corpus_mib": round(size), "runs": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
