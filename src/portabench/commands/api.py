"""``portabench api FRAMEWORK``: the framework's public functions as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from portabench.frameworks import get_framework
from portabench.runner.session import query_worker


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="list a framework's public API (qualified names and kinds) as JSON")
    p.add_argument("framework")
    p.add_argument("-o", "--output", help="JSON file (default: stdout)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    entry = get_framework(args.framework)
    info = query_worker(entry.name, "cpu", "hello")
    functions = query_worker(entry.name, "cpu", "api")["functions"]
    text = json.dumps({"framework": entry.name, "version": info["framework_version"], "functions": functions}, indent=1)
    if args.output:
        Path(args.output).write_text(text)
    else:
        print(text)
    return 0
