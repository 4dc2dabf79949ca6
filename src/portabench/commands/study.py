"""``portabench study``: every stage with defaults, then the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from portabench.commands.options import add_cases, add_selection, add_store, parse_budget
from portabench.commands.progress import case_progress, console
from portabench.commands.report import write_reports
from portabench.store import Store
from portabench.study import run_study


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="run the whole study (reference cpu + every local accelerator) and write the report")
    p.add_argument("--framework", action="append", help="framework to study (repeatable; default: every installed one)")
    p.add_argument("--devices", help="comma-separated devices (default: cpu plus every accelerator found)")
    p.add_argument("--modes", help="comma-separated modes (default: each framework's default mode)")
    p.add_argument("--budget", help="stop after this wall time (e.g. 540s); run again to continue")
    p.add_argument("--fresh", action="store_true", help="start new runs instead of resuming unfinished ones")
    p.add_argument("-o", "--output", default="portabench-report.md", help="Markdown report (default portabench-report.md)")
    p.add_argument("--html", metavar="DIR", help="also write the HTML report into DIR")
    add_store(p)
    add_selection(p)
    add_cases(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    devices = [d.strip() for d in args.devices.split(",")] if args.devices else None
    modes = [m.strip() for m in args.modes.split(",")] if args.modes else None
    with Store(args.store) as store:
        result = run_study(store, args, args.framework, devices, modes, parse_budget(args.budget), case_progress, console.print)
        for note in result.notes():
            console.print(note)
        write_reports(store, Path(args.output), args.html, extra_notes=result.notes())
    console.print(f"report written to {args.output}")
    return 0
