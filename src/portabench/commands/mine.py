"""``portabench mine``: count calls of a framework's functions in Python sources."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from portabench.commands.progress import case_progress, console
from portabench.frameworks import get_framework


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="mine usage frequencies from directories, .py files, dist:NAME or JSONL/Parquet corpora")
    p.add_argument("--framework", required=True)
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.add_argument("-o", "--output", help="frequency table JSON (default: stdout)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from portabench.mining import mine_sources

    entry = get_framework(args.framework)
    with case_progress(f"mining {entry.name}") as progress:
        result = mine_sources(entry.name, args.sources, lambda n: progress(n, 0, ""))
    text = json.dumps(result.to_json(), indent=1)
    if args.output:
        Path(args.output).write_text(text)
        console.print(f"{result.files_read} files read, {result.files_skipped} skipped, {len(result.counts)} functions")
    else:
        print(text)
    return 0
