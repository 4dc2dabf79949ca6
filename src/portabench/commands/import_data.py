"""``portabench import paper PATH``: the paper's published raw data into the store as ordinary runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from portabench.commands.options import add_store
from portabench.commands.progress import console
from portabench.errors import PortabenchError
from portabench.store import Store


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="import published data: 'portabench import paper PATH'")
    p.add_argument("kind", choices=("paper",))
    p.add_argument("path")
    add_store(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from portabench.importers.paper import import_paper

    path = Path(args.path)
    if not path.is_dir():
        raise PortabenchError(f"{path} is not a directory (expected a clone of the paper's repository)")
    with Store(args.store) as store:
        summary = import_paper(path, store)
    for line in summary.lines():
        console.print(line)
    return 0
