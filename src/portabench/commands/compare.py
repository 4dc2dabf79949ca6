"""``portabench compare A B``: what became portable or broke between two stores or runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from portabench.commands.output import check_output_file, write_output
from portabench.errors import PortabenchError


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="per-function changes between two stores (or two run ids of --store)")
    p.add_argument("a", help="store file or run id")
    p.add_argument("b", help="store file or run id")
    p.add_argument("--store", help="store holding the run ids, when A and B are run ids")
    p.add_argument("-o", "--output", help="Markdown file (default: stdout)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from portabench.report import compare_command

    if args.store is None:
        for side in (args.a, args.b):
            if not Path(side).is_file():
                raise PortabenchError(f"{side} is not a store file (to compare two run ids, name the store "
                                      "holding them with --store)")
    output = check_output_file(args.output) if args.output else None  # before the work
    text = compare_command(args.a, args.b, args.store)
    if output is not None:
        write_output(output, text)
    else:
        print(text)
    return 0
