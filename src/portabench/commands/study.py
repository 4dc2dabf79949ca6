"""``portabench study``: every stage with defaults, then the report."""

from __future__ import annotations

import argparse

from portabench.commands.deferred_store import DeferredStore
from portabench.commands.options import (
    add_cases,
    add_selection,
    add_store,
    case_options,
    cluster_options,
    parse_budget,
    selection,
)
from portabench.commands.output import check_output_dir, check_output_file
from portabench.commands.progress import case_progress, console
from portabench.commands.report import write_reports
from portabench.errors import PortabenchError
from portabench.study import StudyOptions, run_study


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="run the whole study (reference cpu + every local accelerator) and write the report")
    p.add_argument("--framework", action="append", help="framework to study (repeatable; default: every installed one)")
    p.add_argument("--devices", help="comma-separated devices (default: cpu plus every accelerator found)")
    p.add_argument("--modes", help="comma-separated modes (default: each framework's default mode)")
    p.add_argument("--budget", help="stop after this wall time (e.g. 540s); run again to continue")
    p.add_argument("--fresh", action="store_true", help="start new runs instead of resuming unfinished ones")
    p.add_argument("-o", "--output", default="portabench-report.md",
                   help="Markdown report (default portabench-report.md)")
    p.add_argument("--html", metavar="DIR", help="also write the HTML report into DIR")
    p.add_argument("--cluster", metavar="ADDRESS", help="run on a Ray cluster: auto, ray://host:10001 or host:port "
                   "(needs portabench[ray]; docs/cluster.md)")
    p.add_argument("--shards", type=int,
                   help="with --cluster: split each run over N nodes of its device kind (default 1)")
    p.add_argument("--place", action="append", default=[], metavar="KIND=RES[:N],...",
                   help="with --cluster: Ray resources a node must offer for a device kind (repeatable), "
                        "e.g. cuda=GPU:1,accelerator_type:H100 (default: GPU, TPU, else portabench_device_<kind>)")
    add_store(p)
    add_selection(p)
    add_cases(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    cases = case_options(args)
    budget = parse_budget(args.budget)
    output = check_output_file(args.output)  # before the study: a report path that cannot be written fails now
    if args.html:
        check_output_dir(args.html)
    options = StudyOptions(
        frameworks=tuple(args.framework) if args.framework else None,
        devices=tuple(d.strip() for d in args.devices.split(",")) if args.devices else None,
        modes=tuple(m.strip() for m in args.modes.split(",")) if args.modes else None,
        selection=selection(args), cases=cases, budget_s=budget, fresh=args.fresh, cluster=cluster_options(args),
    )
    with DeferredStore(args.store) as store:
        result = run_study(store, options, case_progress, console.print)
        if result.ran_nothing():
            why = "; ".join(f"{fw}: {reason}" for fw, reason in result.skipped.items())
            raise PortabenchError(f"nothing could be studied ({why})")
        for note in result.notes():
            console.print(note)
        write_reports(store, output, args.html, extra_notes=result.notes())
    console.print(f"report written to {output}")
    return 0
