"""The ``portabench`` command line: parses arguments and calls one command module.

Each subcommand lives in :mod:`portabench.commands` as a thin adapter over a
library function. A :class:`PortabenchError` becomes one line on stderr and
exit status 2; Ctrl-C exits 130 after the run is marked resumable. When the
reader of stdout goes away (``portabench api jax | head``) the command ends
quietly with status 141, as a Unix tool killed by SIGPIPE does.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import NoReturn

from portabench import __version__
from portabench.commands import COMMANDS
from portabench.errors import PortabenchError


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's one-line errors: ``portabench: error: ...`` and exit 2, no usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"portabench: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portabench",
        description="Measure how portable ML frameworks are across hardware "
                    "(after Mince et al., 'The Grand Illusion').",
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
        status = int(args.handler(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at interpreter exit
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except PortabenchError as exc:
        print(f"portabench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("portabench: interrupted; results so far are stored (continue with --resume)", file=sys.stderr)
        return 130


def _quiet_broken_pipe() -> int:
    """stdout's reader has gone: drop what is still buffered (no 'Exception ignored' at exit), exit 128+SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests capturing it): nothing to redirect
        pass
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
