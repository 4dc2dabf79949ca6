"""``portabench merge A.sqlite B.sqlite -o C.sqlite``: combine runs made on different machines."""

from __future__ import annotations

import argparse

from portabench.commands.progress import console
from portabench.store import merge_stores


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="merge stores into one (refuses runs whose metadata differ)")
    p.add_argument("sources", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    added = merge_stores(args.sources, args.output)
    console.print(f"{added['runs']} runs and {added['results']} results added to {args.output}")
    return 0
