"""``portabench mine``: count calls of a framework's functions in Python sources."""

from __future__ import annotations

import argparse
import json

from portabench.commands.options import add_framework
from portabench.commands.output import check_output_file, write_output
from portabench.commands.progress import case_progress, console
from portabench.frameworks import get_framework


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name,
                       help="mine usage frequencies from directories, .py files, dist:NAME or JSONL/Parquet corpora")
    add_framework(p)
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a directory or .py file, dist:NAME (an installed distribution), or a JSONL/Parquet corpus")
    p.add_argument("-o", "--output", help="frequency table JSON (default: stdout)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from portabench.mining import mine_sources

    entry = get_framework(args.framework)
    output = check_output_file(args.output) if args.output else None
    with case_progress(f"mining {entry.name}") as progress:
        result = mine_sources(entry.name, args.sources, lambda n: progress(n, 0, ""))
    text = json.dumps(result.to_json(), indent=1)
    if output is not None:
        write_output(output, text)
        console.print(f"{result.files_read} files read, {result.files_skipped} skipped, {len(result.counts)} functions")
    else:
        print(text)
    return 0
