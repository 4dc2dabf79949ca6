"""``portabench run``: run one framework's cases on one device into the store."""

from __future__ import annotations

import argparse

from portabench.commands.deferred_store import DeferredStore
from portabench.commands.options import add_cases, add_framework, add_selection, add_store, case_options, selection
from portabench.commands.progress import case_progress, console
from portabench.frameworks import get_framework
from portabench.runner.session import execute_run
from portabench.selection import resolve_manifest
from portabench.specs import load_spec_file
from portabench.study import request_for, summary_line


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="run cases on one device and store the results")
    add_framework(p)
    p.add_argument("--device", required=True,
                   help="framework device string: cpu, cuda, cuda:1, mps, meta, gpu, tpu, ...")
    p.add_argument("--reference", default="cpu", help="device the results are compared with (default cpu)")
    p.add_argument("--mode",
                   help="execution mode (torch: eager|compile|export; jax: eager|jit; tensorflow: eager|function|xla)")
    p.add_argument("--resume", action="store_true",
                   help="continue the newest unfinished run of this framework/device/mode")
    add_store(p)
    add_selection(p)
    add_cases(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    entry = get_framework(args.framework)
    entry.require_installed()
    options = case_options(args)
    for spec in options.specs:
        load_spec_file(spec)  # validate in the parent: a bad spec is a one-line error before any worker starts
    manifest = resolve_manifest(entry, selection(args), specs=list(options.specs))
    request = request_for(entry, args.device, args.reference, args.mode, manifest, options, resume=args.resume)
    with DeferredStore(args.store) as store, case_progress(f"{entry.name} on {args.device}") as progress:
        summary = execute_run(store, request, progress)
    console.print(summary_line(entry.name, args.device, summary))
    return 0
