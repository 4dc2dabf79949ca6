"""``portabench compare A B``: what became portable or broke between two stores or runs."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="per-function changes between two stores (or two run ids of --store)")
    p.add_argument("a", help="store file or run id")
    p.add_argument("b", help="store file or run id")
    p.add_argument("--store", help="store holding the run ids, when A and B are run ids")
    p.add_argument("-o", "--output", help="Markdown file (default: stdout)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from portabench.report import compare_command

    text = compare_command(args.a, args.b, args.store)
    if args.output:
        open(args.output, "w").write(text)
    else:
        print(text)
    return 0
