"""Options shared by several subcommands, so they are spelled the same everywhere.

The ``add_*`` functions declare them on a parser (defaults read from the library's
single definitions); :func:`case_options`, :func:`selection` and
:func:`cluster_options` turn the parsed namespace into the dataclasses the library
takes (splitting comma-separated values and refusing meaningless ones here, before
any worker starts or any store is opened).
"""

from __future__ import annotations

import argparse
import math

from portabench.case_options import DEFAULT_COMPILE_TIMEOUT_S, DEFAULT_TIMEOUT_S, DEFAULT_TIMING, CaseOptions
from portabench.cases import DEFAULT_DTYPES, DEFAULT_MAX_SAMPLES, dtype_list
from portabench.cluster.options import ClusterOptions
from portabench.cluster.resources import parse_place
from portabench.errors import PortabenchError
from portabench.frameworks import FRAMEWORKS
from portabench.frameworks.timer import TimingConfig
from portabench.sampling import DEFAULT_PER_DECILE, DEFAULT_TOP
from portabench.selection import Selection

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
    group.add_argument("--seed", type=int, default=Selection.seed,
                       help=f"seed of the default sample (default {Selection.seed})")


def add_sampling(parser: argparse.ArgumentParser) -> None:
    """How the default sample is drawn: ``--per-decile`` and ``--top``."""
    parser.add_argument("--per-decile", type=int, default=DEFAULT_PER_DECILE, metavar="N",
                        help=f"functions drawn from each of the 10 usage deciles (default {DEFAULT_PER_DECILE})")
    parser.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N",
                        help=f"the N most used functions, taken before the deciles are drawn (default {DEFAULT_TOP})")


def split_list(text: str | None) -> list[str] | None:
    """A comma-separated option as a list of its non-empty, stripped parts (None when not given)."""
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def selection(args: argparse.Namespace) -> Selection:
    """The function selection of a command (``add_selection``; ``--per-decile``, ``--top``, ``--table`` where
    it has them)."""
    functions = split_list(args.functions) if args.functions else None
    if args.functions and not functions:
        raise PortabenchError("--functions needs at least one name")
    return Selection(
        preset=args.preset, functions=tuple(functions) if functions else None, sample=args.sample,
        models=getattr(args, "models", None), seed=args.seed,
        per_decile=getattr(args, "per_decile", DEFAULT_PER_DECILE), top=getattr(args, "top", DEFAULT_TOP),
        table=getattr(args, "table", None),
    )


def add_cases(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtypes", help=f"comma-separated dtypes (default: {','.join(DEFAULT_DTYPES)})")
    parser.add_argument("--specs", action="append", default=[], metavar="PATH",
                        help="extra case spec file (repeatable)")
    parser.add_argument("--max-samples", type=int, default=DEFAULT_MAX_SAMPLES,
                        help=f"sample inputs per function, source and dtype "
                             f"(default {DEFAULT_MAX_SAMPLES}, at least 1)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds per case before its worker is killed (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--repeats", type=int, default=DEFAULT_TIMING.min_repeats,
                        help=f"minimum timed repeats per passing case (default {DEFAULT_TIMING.min_repeats})")
    parser.add_argument("--time-budget", type=float, default=DEFAULT_TIMING.budget_s,
                        help=f"seconds of timing per case (default {DEFAULT_TIMING.budget_s:g})")
    parser.add_argument("--no-timing", action="store_true", help="skip timing of passing cases")
    parser.add_argument("--compile-timeout", type=float, default=DEFAULT_COMPILE_TIMEOUT_S,
                        help="compiled modes (jit, compile, export...): extra seconds per case for its first compile "
                             f"(default {DEFAULT_COMPILE_TIMEOUT_S:g})")
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


def case_options(args: argparse.Namespace) -> CaseOptions:
    """The case options of ``run`` / ``study`` (``add_cases``), checked by :func:`check_case_options`."""
    check_case_options(args)
    return CaseOptions(
        dtypes=tuple(dtype_list(args.dtypes)), specs=tuple(args.specs), max_samples=args.max_samples,
        timeout_s=args.timeout, timing=TimingConfig(min_repeats=args.repeats, budget_s=args.time_budget),
        do_timing=not args.no_timing, workers=args.workers, compile_timeout_s=args.compile_timeout,
        fullgraph=args.fullgraph,
    )


def cluster_options(args: argparse.Namespace) -> ClusterOptions | None:
    """``study``'s cluster options when ``--cluster`` is given, else None; ``--shards``/``--place`` without it
    is an error."""
    address = getattr(args, "cluster", None)
    shards = getattr(args, "shards", None)
    place = getattr(args, "place", None) or []
    if not address:
        if shards not in (None, 1) or place:
            raise PortabenchError("--shards and --place go with --cluster")
        return None
    return ClusterOptions(address=address, shards=1 if shards is None else shards, place=parse_place(place))


def check_case_options(args: argparse.Namespace) -> None:
    """Refuse case options that make no sense (one-line error, exit 2) before any worker starts or any store
    is opened."""
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
