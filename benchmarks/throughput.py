"""Throughput of ``portabench run``: wall time and cases per second for a preset on one device.

    python benchmarks/throughput.py --preset all --dtypes float32 --device cpu
    python benchmarks/throughput.py --preset paper --device cpu            # all default dtypes
    python benchmarks/throughput.py --device cuda --dtypes float32 --workers 1,2,4
    python benchmarks/throughput.py --preset paper --dtypes float32 --max-samples 1 --mode eager,compile,export

Runs the real CLI into a temporary store (workers, comparison, timing and all)
and prints the figures; ``--output`` also writes them as JSON. With several
``--workers`` values, each runs in turn, and every later one is compared with
the first: cases whose outcome differs, and the median over cases passed in both
of the ratio of their timed medians (concurrent workers on one device share it,
so their timings drift; on one device per worker they should not).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", default="torch")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", default="all")
    parser.add_argument("--dtypes")
    parser.add_argument("--mode", help="one mode, or several comma-separated (each measured in turn, e.g. eager,compile,export)")
    parser.add_argument("--max-samples", type=int, help="samples per function, source and dtype (default: the CLI's)")
    parser.add_argument("--workers", default="1", help="comma-separated worker counts to measure in turn (default 1)")
    parser.add_argument("--output")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        modes = args.mode.split(",") if args.mode else [None]
        for mode, workers in [(m, int(w)) for m in modes for w in args.workers.split(",")]:
            store = Path(tmp) / f"bench-{mode}-{workers}.sqlite"
            figures = _measure(argparse.Namespace(**{**vars(args), "mode": mode}), workers, store)
            if rows and len(modes) == 1:
                figures.update(_agreement(Path(tmp) / f"bench-{mode}-{rows[0]['workers']}.sqlite", store))
            rows.append(figures)
            print(json.dumps(figures), flush=True)
    if args.output:
        Path(args.output).write_text(json.dumps(rows, indent=1))


def _measure(args: argparse.Namespace, workers: int, store: Path) -> dict:
    cmd = [sys.executable, "-m", "portabench", "run", "--framework", args.framework, "--device", args.device,
           "--preset", args.preset, "--store", str(store), "--workers", str(workers)]
    cmd += ["--dtypes", args.dtypes] if args.dtypes else []
    cmd += ["--mode", args.mode] if args.mode else []
    cmd += ["--max-samples", str(args.max_samples)] if args.max_samples else []
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    with sqlite3.connect(store) as conn:
        cases, functions, passed = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT function), SUM(outcome = 'passed') FROM results").fetchone()
    return {"framework": args.framework, "device": args.device, "preset": args.preset, "dtypes": args.dtypes or "default",
            "mode": args.mode or "default", "max_samples": args.max_samples or "default", "workers": workers, "wall_s": round(wall, 1), "cases": cases,
            "functions": functions, "passed": passed, "cases_per_s": round(cases / wall, 2), "cpus": os.cpu_count()}


def _agreement(first: Path, other: Path) -> dict:
    """Outcome differences and the median timing ratio of ``other`` against ``first``, case by case."""
    with sqlite3.connect(other) as conn:
        conn.execute("ATTACH DATABASE ? AS first", (str(first),))
        pairs = conn.execute(
            "SELECT a.outcome, b.outcome, a.time_median_ns, b.time_median_ns FROM first.results a "
            "JOIN results b USING (case_id)").fetchall()
    ratios = sorted(b_t / a_t for a_o, b_o, a_t, b_t in pairs if a_o == b_o == "passed" and a_t and b_t)
    return {"outcomes_differ": sum(a_o != b_o for a_o, b_o, _, _ in pairs),
            "time_ratio_median": round(statistics.median(ratios), 3) if ratios else None,
            "time_ratio_p10_p90": [round(ratios[len(ratios) // 10], 3), round(ratios[9 * len(ratios) // 10], 3)]
            if ratios else None}

if __name__ == "__main__":
    main()
