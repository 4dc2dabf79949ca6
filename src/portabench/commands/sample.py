"""``portabench sample``: draw the paper's decile sample (or a preset) into a manifest."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from portabench.commands.options import add_framework, add_sampling, add_selection, selection
from portabench.commands.output import check_output_file, write_output
from portabench.commands.progress import console
from portabench.frameworks import get_framework
from portabench.models.selection import is_model_manifest
from portabench.selection import resolve_manifest


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="sample functions by usage decile (or take a preset) and write a manifest")
    add_framework(p)
    p.add_argument("--table", help="frequency table: a file from 'portabench mine', or a shipped table name such as "
                                   "torch-apps (default: the shipped library table of the framework)")
    add_sampling(p)
    p.add_argument("-o", "--output", help="manifest JSON (default: stdout)")
    add_selection(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from portabench.case_options import CaseOptions
    from portabench.coverage import (
        annotate_manifest,
        case_counts,
        manifest_coverage_lines,
    )
    from portabench.mining import load_frequency_table
    from portabench.sampling import preset_manifest, resolve_table

    entry = get_framework(args.framework)
    output = check_output_file(args.output) if args.output else None
    chosen = replace(selection(args), table=resolve_table(args.table))
    manifest = resolve_manifest(entry, chosen, check_names=lambda note: console.print(f"portabench: {note}"))
    if manifest.name == "all" and not manifest.functions:  # list every function with its case count
        counted = CaseOptions()  # the default dtypes and samples of a run
        counts = case_counts(entry.name, None, counted)
        manifest = preset_manifest(entry.name, "all", load_frequency_table(entry.name), case_counts=counts)
        manifest.params["cases_counted_with"] = {"dtypes": list(counted.dtypes), "max_samples": counted.max_samples,
                                                 "device": "cpu"}
    unannotated = "coverage" not in manifest.params or (manifest.functions and "with_cases" not in manifest.params)
    if not is_model_manifest(manifest) and unannotated:
        annotate_manifest(manifest)  # presets, listed names, loaded manifests
    text = json.dumps(manifest.to_json(), indent=1)
    if output is not None:
        write_output(output, text)
    else:
        print(text)
    for line in manifest_coverage_lines(manifest):
        console.print(line, highlight=False, soft_wrap=True)
    return 0
