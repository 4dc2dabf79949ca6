"""The ``portabench`` command line: parses arguments and calls one command module.

Each subcommand lives in :mod:`portabench.commands` as a thin adapter over a
library function. A :class:`PortabenchError` becomes one line on stderr and
exit status 2; Ctrl-C exits 130 after the run is marked resumable.
"""

from __future__ import annotations

import argparse
import sys

from portabench import __version__
from portabench.commands import COMMANDS
from portabench.errors import PortabenchError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portabench",
        description="Measure how portable ML frameworks are across hardware (after Mince et al., 'The Grand Illusion').",
    )
    parser.add_argument("--version", action="version", version=f"portabench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_parser(sub, name)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except PortabenchError as exc:
        print(f"portabench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("portabench: interrupted; results so far are stored (continue with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
