"""Options shared by several subcommands, so they are spelled the same everywhere."""

from __future__ import annotations

import argparse
import math

from portabench.cases import DEFAULT_DTYPES, dtype_list
from portabench.errors import PortabenchError
from portabench.frameworks import FRAMEWORKS

DEFAULT_STORE = "portabench.sqlite"
FRAMEWORK_HELP = f"framework: {', '.join(FRAMEWORKS)} (aliases pytorch, tf)"


def add_framework(parser: argparse.ArgumentParser, *, positional: bool = False) -> None:
    """The framework argument: ``FRAMEWORK`` (positional) or a required ``--framework``."""
    if positional:
        parser.add_argument("framework", metavar="FRAMEWORK", help=FRAMEWORK_HELP)
    else:
        parser.add_argument("--framework", required=True, help=FRAMEWORK_HELP)


def add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"SQLite results file (default: {DEFAULT_STORE})")


def add_selection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("function selection (at most one)")
    group.add_argument("--preset", help="paper (the paper's sample), all (every function with cases), default")
    group.add_argument("--functions", help="comma-separated qualified names, e.g. torch.add,torch.nn.Linear")
    group.add_argument("--sample", metavar="MANIFEST", help="a manifest written by 'portabench sample'")
    group.add_argument("--models", help="whole models, e.g. timm:resnet50,hf:gpt2,tv:resnet18,py:module:factory "
                                        "(presets: --preset models, a stratified sample; --preset models-all)")
    group.add_argument("--seed", type=int, default=0, help="seed of the default sample (default 0)")


def add_cases(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtypes", help=f"comma-separated dtypes (default: {','.join(DEFAULT_DTYPES)})")
    parser.add_argument("--specs", action="append", default=[], metavar="PATH", help="extra case spec file (repeatable)")
    parser.add_argument("--max-samples", type=int, default=5, help="sample inputs per function, source and dtype (default 5, at least 1)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case before its worker is killed (default 60)")
    parser.add_argument("--repeats", type=int, default=5, help="minimum timed repeats per passing case (default 5)")
    parser.add_argument("--time-budget", type=float, default=0.2, help="seconds of timing per case (default 0.2)")
    parser.add_argument("--no-timing", action="store_true", help="skip timing of passing cases")
    parser.add_argument("--compile-timeout", type=float, default=300.0,
                        help="compiled modes (jit, compile, export...): extra seconds per case for its first compile "
                             "(default 300)")
    parser.add_argument("--fullgraph", action="store_true",
                        help="torch compile: a graph break or eager fallback fails the case")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="workers per run (default: one per device the device string covers, e.g. one per GPU "
                             "for 'cuda'; 1 for cpu). Concurrent workers on one device disturb each other's timings")


def parse_budget(text: str | None) -> float | None:
    """'540', '540s', '9m', '1h' -> seconds."""
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise PortabenchError(f"bad budget {text!r} (e.g. 540s, 9m, 1h)") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise PortabenchError(f"bad budget {text!r}: it must be a positive time (e.g. 540s, 9m, 1h)")
    return seconds


def check_case_options(args: argparse.Namespace) -> None:
    """Refuse case options that make no sense (one-line error, exit 2) before any worker starts or any store is opened."""
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise PortabenchError(f"--timeout must be a positive number of seconds, not {args.timeout!r}")
    if args.max_samples < 1:
        raise PortabenchError(f"--max-samples must be at least 1, not {args.max_samples}")
    if args.repeats < 1:
        raise PortabenchError(f"--repeats must be at least 1, not {args.repeats}")
    if not (math.isfinite(args.time_budget) and args.time_budget >= 0):
        raise PortabenchError(f"--time-budget must be a non-negative number of seconds, not {args.time_budget!r}")
    if args.workers is not None and args.workers < 1:
        raise PortabenchError(f"--workers must be at least 1, not {args.workers}")
    dtype_list(args.dtypes)  # unknown dtype names: an error naming the closest known ones
