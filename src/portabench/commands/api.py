"""``portabench api FRAMEWORK``: the framework's public functions as JSON."""

from __future__ import annotations

import argparse
import json

from portabench.commands.options import add_framework
from portabench.commands.output import check_output_file, write_output
from portabench.frameworks import get_framework
from portabench.protocol import ApiRequest, HelloRequest
from portabench.runner.session import query_worker


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="list a framework's public API (qualified names and kinds) as JSON")
    add_framework(p, positional=True)
    p.add_argument("-o", "--output", help="JSON file (default: stdout)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    entry = get_framework(args.framework)
    output = check_output_file(args.output) if args.output else None
    info = query_worker(entry.name, "cpu", HelloRequest())
    functions = query_worker(entry.name, "cpu", ApiRequest()).functions
    text = json.dumps({"framework": entry.name, "version": info.framework_version, "functions": functions}, indent=1)
    if output is not None:
        write_output(output, text)
    else:
        print(text)
    return 0
