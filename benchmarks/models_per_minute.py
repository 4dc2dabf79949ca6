"""Models per minute: run a whole-model sweep for a bounded wall time and measure its throughput.

    PYTHONPATH=src python3 benchmarks/models_per_minute.py --store S.sqlite --device cuda --reference cpu \
        --preset models --budget 240 [--workers N] [--json out.json]

Runs (or resumes) one ``portabench run`` of the selected models with a wall-clock
budget (the run stops resumably when it is spent: run the same command again to
continue), then counts the models whose every case is recorded in that run and
divides by the minutes this command spent in the run. Cases are compared with the
reference when one is given, and timed (at the model batches) unless
``--no-timing``. Prints one JSON line (and writes it to ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from types import SimpleNamespace

from portabench.frameworks import get_framework
from portabench.runner.session import execute_run
from portabench.frameworks.timer import TimingConfig
from portabench.selection import resolve_manifest
from portabench.store import Store
from portabench.study import request_for


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True)
    p.add_argument("--device", required=True)
    p.add_argument("--reference", default=None, help="reference device (default: none, a reference run)")
    p.add_argument("--preset", default=None, help="models or models-all")
    p.add_argument("--models", default=None, help="comma-separated model names")
    p.add_argument("--sample", default=None, help="a manifest written by 'portabench sample --preset models'")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=240.0, help="seconds of wall time for the run")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--time-budget", type=float, default=0.05)
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    entry = get_framework("torch")
    manifest = resolve_manifest(entry, args.preset, None, args.sample, seed=args.seed, models=args.models)
    cli = SimpleNamespace(specs=[], max_samples=1, timeout=args.timeout, repeats=args.repeats,
                          time_budget=args.time_budget, no_timing=args.no_timing, workers=args.workers)
    request = request_for(entry, args.device, args.reference, None, manifest, ["float32"], cli, resume=True,
                          budget_s=args.budget)
    request.timing = TimingConfig(min_repeats=args.repeats, budget_s=args.time_budget)
    started = time.monotonic()
    with Store(args.store) as store:
        summary = execute_run(store, request)
        elapsed = time.monotonic() - started
        results = store.results_frame([summary.run_id])
    per_model = results.groupby("function").size() if not results.empty else results
    done = int((per_model == per_model.max()).sum()) if len(per_model) else 0
    line = {
        "device": args.device, "reference": args.reference, "workers": args.workers or 1, "run_id": summary.run_id,
        "status": summary.status, "models_selected": len(manifest.names()), "models_done": done,
        "cases_this_command": sum(summary.counts.values()), "counts": summary.counts,
        "elapsed_s": round(elapsed, 1),
        "models_per_minute": round(sum(summary.counts.values()) / max(per_model.max() if len(per_model) else 1, 1)
                                   / (elapsed / 60), 2) if elapsed > 0 else None,
    }
    print(json.dumps(line))
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
