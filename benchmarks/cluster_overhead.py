"""Overhead of ``portabench study --cluster`` against a local study of the same plan (wall-time ratio).

    python benchmarks/cluster_overhead.py                       # torch, cpu + meta, a few functions, no timing
    python benchmarks/cluster_overhead.py --nodes 2 --repeats 3
    python benchmarks/cluster_overhead.py --address 10.0.0.1:6379   # an existing cluster (nodes offer cpu and meta)

Runs the real CLI twice into temporary stores: once locally, once with
``--cluster`` against a local Ray cluster this script starts
(``ray.cluster_utils.Cluster``: a head with no task slots and ``--nodes``
nodes of one CPU each, every one offering ``portabench_device_cpu`` and
``portabench_device_meta``). With one node the cluster runs the plan's runs one
after the other, as the local study does, so the ratio is the cost of the
cluster path itself (connecting, the Ray task and mailbox, sending results);
with more nodes runs overlap. Starting the cluster is not counted. Also checks
that both stores hold the same cases with the same outcomes. Prints one JSON
line per repeat and the median ratio.
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

SRC = Path(__file__).resolve().parents[1] / "src"
DEFAULT_FUNCTIONS = "torch.add,torch.mul,torch.nonzero,torch.zeros,torch.cat,torch.nn.Linear,torch.sum,torch.matmul"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", default="torch")
    parser.add_argument("--devices", default="cpu,meta")
    parser.add_argument("--functions", default=DEFAULT_FUNCTIONS)
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--max-samples", default="2")
    parser.add_argument("--timing", action="store_true", help="time passing cases too (default: --no-timing)")
    parser.add_argument("--nodes", type=int, default=1, help="nodes of the local test cluster (default 1)")
    parser.add_argument("--address", help="use this running cluster instead of starting one")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--output", help="also write the figures as JSON here")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(SRC) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    cluster = None
    if args.address is None:
        from ray.cluster_utils import Cluster

        start = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False,
                                                                "object_store_memory": 100 * 2**20})
        for _ in range(args.nodes):
            cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20,
                             resources={"portabench_device_cpu": 1, "portabench_device_meta": 1})
        print(json.dumps({"cluster_start_s": round(time.perf_counter() - start, 1), "nodes": args.nodes}), flush=True)
    address = args.address or cluster.address
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for repeat in range(args.repeats):
                local = Path(tmp) / f"local-{repeat}.sqlite"
                remote = Path(tmp) / f"cluster-{repeat}.sqlite"
                local_s = _study(args, local, Path(tmp), None)
                cluster_s = _study(args, remote, Path(tmp), address)
                row = {"framework": args.framework, "devices": args.devices, "cases": _cases(local),
                       "local_s": round(local_s, 2), "cluster_s": round(cluster_s, 2),
                       "ratio": round(cluster_s / local_s, 3), "same_outcomes": _outcomes(local) == _outcomes(remote),
                       "nodes": args.nodes if cluster else None, "cpus": os.cpu_count(),
                       "load_1min": round(os.getloadavg()[0], 2)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        if cluster is not None:
            cluster.shutdown()
    summary = {"median_ratio": statistics.median(r["ratio"] for r in rows), "repeats": len(rows)}
    print(json.dumps(summary))
    if args.output:
        Path(args.output).write_text(json.dumps({"rows": rows, **summary}, indent=1))


def _study(args: argparse.Namespace, store: Path, cwd: Path, address: str | None) -> float:
    cmd = [sys.executable, "-m", "portabench", "study", "--framework", args.framework, "--devices", args.devices,
           "--functions", args.functions, "--dtypes", args.dtypes, "--max-samples", args.max_samples,
           "--store", str(store), "-o", str(store.with_suffix(".md"))]
    cmd += [] if args.timing else ["--no-timing"]
    cmd += ["--cluster", address] if address else []
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=dict(os.environ))
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    return wall


def _cases(store: Path) -> int:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]


def _outcomes(store: Path) -> dict:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT u.device, r.case_id, r.outcome, r.category FROM results r JOIN runs u USING (run_id)")
        return {(d, c): (o, cat) for d, c, o, cat in rows}


if __name__ == "__main__":
    main()
