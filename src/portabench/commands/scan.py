"""``portabench scan PATH...``: the project's framework call sites joined with stored results."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from portabench.commands.options import split_list
from portabench.commands.progress import case_progress, console
from portabench.errors import PortabenchError

FORMATS = ("text", "json", "sarif", "html")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    from portabench.scan.model import FAIL_ON

    p = sub.add_parser(name, help="will my code run on device X? call sites of PATHs joined with stored results")
    p.add_argument("paths", nargs="+", metavar="PATH", help="Python files or directories")
    p.add_argument("--framework", default="auto", help="auto (default: every framework), torch, jax or tensorflow")
    p.add_argument("--store", action="append", default=[], metavar="S",
                   help="results store to join (repeatable; read only, except that --run writes to the first)")
    p.add_argument("--devices",
                   help="comma-separated device kinds to report (default: every target device in the stores)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("-o", "--output", help="write the output to this file (default: stdout)")
    p.add_argument("--fail-on", choices=list(FAIL_ON), help="exit 1 when a call site is failing / partial or worse / "
                   "untested or worse on a reported device")
    p.add_argument("--run", action="store_true",
                   help="run the used functions that have no results yet on local devices")
    p.add_argument("--listing", action="append", default=[], metavar="FRAMEWORK=PATH",
                   help="saved API listing (portabench api F -o PATH) instead of asking a worker (repeatable)")
    p.add_argument("--workers", type=int, help="mining processes (default: one per core)")
    p.set_defaults(handler=handle)


def _listings(specs: list[str]) -> dict[str, str]:
    from portabench.frameworks import get_framework

    out = {}
    for spec in specs:
        framework, sep, path = spec.partition("=")
        if not sep or not path:
            raise PortabenchError(f"--listing {spec!r}: expected FRAMEWORK=PATH")
        out[get_framework(framework).name] = path
    return out


def handle(args: argparse.Namespace) -> int:
    from portabench.scan import ScanOptions, scan
    from portabench.scan.execute import run_untested
    from portabench.scan.html import render_html
    from portabench.scan.jsonout import scan_json
    from portabench.scan.model import EXIT_FAIL_ON
    from portabench.scan.sarif import scan_sarif
    from portabench.scan.text import render_text

    options = ScanOptions(
        paths=list(args.paths), frameworks=[] if args.framework == "auto" else [args.framework],
        stores=list(args.store), devices=split_list(args.devices) or [],
        fail_on=args.fail_on, listings=_listings(args.listing), workers=args.workers,
    )
    for path in options.stores:
        if not Path(path).is_file() and not (args.run and path == options.stores[0]):
            raise PortabenchError(f"store {path} does not exist")
    if args.run and options.stores:
        from portabench.store import Store

        Store(options.stores[0]).close()  # --run writes its results there: create it now
    result = scan(options)
    if args.run:
        result = run_untested(result, case_progress, console.print)
    if args.format == "text":
        text = render_text(result)
    elif args.format == "html":
        text = render_html(result)
    else:
        text = json.dumps(scan_json(result) if args.format == "json" else scan_sarif(result), indent=1)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        console.print(f"scan written to {args.output}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_FAIL_ON if result.fail_on_met() else 0
