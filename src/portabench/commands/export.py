"""``portabench export``: the store's results as CSV or JSON."""

from __future__ import annotations

import argparse

from portabench.commands.options import add_store
from portabench.commands.output import check_output_file, write_with
from portabench.store import Store, export_store


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="export results (joined with run metadata) as CSV or JSON")
    add_store(p)
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("-o", "--output", required=True, help="file to write (missing directories are created)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    with Store(args.store, create=False) as store:
        output = check_output_file(args.output)  # before the work
        write_with(output, lambda tmp: export_store(store, args.format, tmp))
    return 0
