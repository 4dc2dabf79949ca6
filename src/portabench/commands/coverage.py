"""``portabench coverage``: how much of a usage table has cases (covered / marked / uncovered)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="share of a frequency table's calls, names and top names whose function has cases")
    p.add_argument("--framework", action="append", help="framework (repeatable; default: every installed one)")
    p.add_argument("--table",
                   help="frequency table file or shipped table name (default: the framework's shipped table)")
    p.add_argument("--specs", action="append", default=[], metavar="FILE", help="extra spec files whose cases count")
    p.add_argument("--top", type=int, default=100, help="size of the 'top' group (default 100)")
    p.add_argument("--list", type=int, default=20, metavar="N",
                   help="uncovered names to show, most used first (default 20)")
    p.add_argument("-o", "--output", help="write every name with its class and reason as JSON")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from portabench.coverage import framework_coverage, summary_lines
    from portabench.errors import PortabenchError
    from portabench.frameworks import get_framework, installed_frameworks
    from portabench.sampling import resolve_table

    if args.top < 1 or args.list < 0:
        raise PortabenchError("--top must be at least 1 and --list not negative")
    entries = [get_framework(f) for f in args.framework] if args.framework else installed_frameworks()
    if not entries:
        raise PortabenchError("no framework is installed (pip install 'portabench[torch]')")
    if args.table and len(entries) > 1:
        raise PortabenchError("--table goes with one --framework")
    out = {}
    for entry in entries:
        cov = framework_coverage(entry.name, resolve_table(args.table), args.specs, top=args.top)
        for line in summary_lines(cov.summary(limit=args.list)):
            print(line)
        out[entry.name] = {"summary": cov.summary(limit=args.list),
                           "functions": [{"name": f.name, "frequency": f.frequency, "status": f.status,
                                          **({"reason": f.reason} if f.reason else {})} for f in cov.functions]}
    if args.output:
        Path(args.output).write_text(json.dumps(out, indent=1))
    return 0
