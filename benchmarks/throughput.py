"""Throughput of ``portabench run``: wall time and cases per second for a preset on one device.

    python benchmarks/throughput.py --preset all --dtypes float32 --device cpu
    python benchmarks/throughput.py --preset paper --device cpu            # all default dtypes

Runs the real CLI into a temporary store (workers, comparison, timing and all)
and prints the figures; ``--output`` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
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
    parser.add_argument("--mode")
    parser.add_argument("--output")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.sqlite"
        cmd = [sys.executable, "-m", "portabench", "run", "--framework", args.framework, "--device", args.device,
               "--preset", args.preset, "--store", str(store)]
        cmd += ["--dtypes", args.dtypes] if args.dtypes else []
        cmd += ["--mode", args.mode] if args.mode else []
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr)
        with sqlite3.connect(store) as conn:
            cases, functions, passed = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT function), SUM(outcome = 'passed') FROM results").fetchone()
    figures = {"framework": args.framework, "device": args.device, "preset": args.preset, "dtypes": args.dtypes or "default",
               "mode": args.mode or "default", "wall_s": round(wall, 1), "cases": cases, "functions": functions,
               "passed": passed, "cases_per_s": round(cases / wall, 2), "cpus": os.cpu_count()}
    print(json.dumps(figures))
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
