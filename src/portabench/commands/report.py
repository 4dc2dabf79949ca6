"""``portabench report``: tables of the store as Markdown, JSON or HTML."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from portabench.commands.options import add_store
from portabench.commands.output import check_output_dir, check_output_file, write_output
from portabench.errors import PortabenchError
from portabench.store import Store


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="write the study report from the store")
    add_store(p)
    p.add_argument("store_path", nargs="?", help="store file (same as --store)")
    p.add_argument("-o", "--output", help="output file (default: print to stdout)")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("--html", metavar="DIR", help="also write a self-contained HTML report into DIR")
    p.add_argument("--baseline", help="baseline device of slowdowns (default: the reference device, cpu)")
    p.add_argument("--target", action="append", help="target device(s) of slowdowns (default: every other device)")
    p.set_defaults(handler=handle)


def write_reports(store: Store, output: Path | None, html_dir: str | None, *, fmt: str = "md",
                  baseline: str | None = None,
                  targets: list[str] | None = None, extra_notes: list[str] | None = None) -> str:
    """Render the store's tables; write them to ``output`` (if given) and HTML to ``html_dir``. Returns the text."""
    from portabench.analysis import build_tables
    from portabench.report import render_json, render_markdown, write_html

    tables = build_tables(store, baseline=baseline, targets=targets)
    tables.notes.extend(n for n in extra_notes or [] if n not in tables.notes)
    text = json.dumps(render_json(tables), indent=1) if fmt == "json" else render_markdown(tables)
    if output is not None:
        write_output(output, text)
    if html_dir:
        directory = check_output_dir(html_dir)
        try:
            write_html(tables, directory)
        except OSError as exc:
            raise PortabenchError(f"cannot write the HTML report into {directory}: {exc.strerror or exc}") from None
    return text


def handle(args: argparse.Namespace) -> int:
    path = args.store_path or args.store
    with Store(path, create=False) as store:
        output = check_output_file(args.output) if args.output else None  # before the work, as every output
        if args.html:
            check_output_dir(args.html)
        text = write_reports(store, output, args.html, fmt=args.format, baseline=args.baseline, targets=args.target)
    if not args.output:
        print(text)
    return 0
