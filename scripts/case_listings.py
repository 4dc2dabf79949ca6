"""Dump the case listings of every framework, preset and mode, and diff two dumps (proof that a refactor kept them).

    PYTHONPATH=src python3 scripts/case_listings.py dump -o /tmp/listings-before.json
    PYTHONPATH=src python3 scripts/case_listings.py diff /tmp/listings-before.json /tmp/listings-after.json

``dump`` lists, through the normal worker path (a worker process per listing, the
``list_cases`` request a run sends, via :func:`portabench.coverage.case_listing`),
the cases of each installed framework (``--frameworks``, default torch, jax and
tensorflow) for each preset (``--presets``, default ``all`` and ``paper``) in each
of the framework's modes as the registry lists them, on ``--device`` (default cpu),
with the default dtypes and sample count of a run (``--max-samples`` changes the
count). It writes one JSON file: per
``framework|preset|mode`` key, the sorted case ids, each case's descriptor fields,
the listing order, and the listing's ``missing``, ``no_cases`` and ``claimed``
parts. Nothing is timed or run.

``diff`` compares two dumps key by key and prints every difference (cases only in
one dump, cases whose descriptor fields differ, order, missing / no_cases /
claimed); it exits 1 when they differ, 0 when they are identical.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from portabench.case_options import CaseOptions
from portabench.coverage import case_listing
from portabench.frameworks import get_framework
from portabench.sampling import preset_manifest

FRAMEWORKS = ("torch", "jax", "tensorflow")
PRESETS = ("all", "paper")
#: differences printed per key and part before the rest are counted
SHOWN = 20


def _reply_json(reply: Any) -> dict[str, Any]:
    """A listing reply as plain JSON data (a dict today; a typed message with ``to_json`` also works)."""
    return reply.to_json() if hasattr(reply, "to_json") else dict(reply)


def listing_entry(framework: str, preset: str, mode: str, device: str, options: CaseOptions) -> dict[str, Any]:
    """One listing: the cases by id (descriptor fields), their order, and what the listing says of the rest."""
    functions = None if preset == "all" else preset_manifest(framework, preset).names()
    reply = _reply_json(case_listing(framework, functions, options, device=device, mode=mode))
    cases = [c if isinstance(c, dict) else c.to_json() for c in reply["cases"]]
    by_id = {c["case_id"]: {k: c[k] for k in sorted(c) if k != "case_id"} for c in cases}
    return {
        "case_ids": sorted(by_id),
        "cases": {k: by_id[k] for k in sorted(by_id)},
        "order": [c["case_id"] for c in cases],
        "missing": sorted(reply.get("missing", [])),
        "no_cases": sorted(reply.get("no_cases", [])),
        "claimed": reply.get("claimed", {}),
    }


def dump(output: Path, frameworks: list[str], presets: list[str], device: str, options: CaseOptions) -> int:
    listings: dict[str, Any] = {}
    for name in frameworks:
        entry = get_framework(name)
        if not entry.is_installed():
            print(f"{entry.name}: not installed, skipped", file=sys.stderr)
            continue
        for preset in presets:
            for mode in entry.modes:
                started = time.monotonic()
                listing = listing_entry(entry.name, preset, mode, device, options)
                listings[f"{entry.name}|{preset}|{mode}"] = listing
                print(f"{entry.name} {preset} {mode}: {len(listing['case_ids'])} cases "
                      f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    data = {"device": device, "dtypes": list(options.dtypes), "max_samples": options.max_samples, "listings": listings}
    output.write_text(json.dumps(data, indent=0, sort_keys=True))
    return 0


def _show(lines: list[str], title: str, items: list[str]) -> None:
    if items:
        lines.append(f"  {title} ({len(items)}):")
        lines += [f"    {item}" for item in items[:SHOWN]]
        if len(items) > SHOWN:
            lines.append(f"    ... and {len(items) - SHOWN} more")


def listing_differences(key: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines describing how listing ``new`` differs from ``old`` (empty: identical)."""
    lines: list[str] = []
    old_ids, new_ids = set(old["case_ids"]), set(new["case_ids"])
    _show(lines, "only before", sorted(old_ids - new_ids))
    _show(lines, "only after", sorted(new_ids - old_ids))
    changed = [f"{cid}: {old['cases'][cid]} -> {new['cases'][cid]}"
               for cid in sorted(old_ids & new_ids) if old["cases"][cid] != new["cases"][cid]]
    _show(lines, "descriptor fields changed", changed)
    if not lines and old["order"] != new["order"]:
        lines.append("  same cases, listed in another order")
    for part in ("missing", "no_cases"):
        _show(lines, f"{part} only before", sorted(set(old[part]) - set(new[part])))
        _show(lines, f"{part} only after", sorted(set(new[part]) - set(old[part])))
    claimed = [f"{fn}: {old['claimed'].get(fn)} -> {new['claimed'].get(fn)}"
               for fn in sorted(set(old["claimed"]) | set(new["claimed"]))
               if old["claimed"].get(fn) != new["claimed"].get(fn)]
    _show(lines, "claimed dtypes changed", claimed)
    return [f"{key}:"] + lines if lines else []


def diff(before: Path, after: Path) -> int:
    old, new = json.loads(before.read_text()), json.loads(after.read_text())
    lines = [f"{k}: {old[k]} -> {new[k]}" for k in ("device", "dtypes", "max_samples") if old.get(k) != new.get(k)]
    old_l, new_l = old["listings"], new["listings"]
    lines += [f"{key}: only in {before}" for key in sorted(set(old_l) - set(new_l))]
    lines += [f"{key}: only in {after}" for key in sorted(set(new_l) - set(old_l))]
    for key in sorted(set(old_l) & set(new_l)):
        lines += listing_differences(key, old_l[key], new_l[key])
    for line in lines:
        print(line)
    total = sum(len(v["case_ids"]) for v in new_l.values())
    if lines:
        print(f"listings differ ({len(new_l)} listings, {total} cases after)")
        return 1
    print(f"identical: {len(new_l)} listings, {total} cases")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="write every listing to a JSON file")
    d.add_argument("-o", "--output", type=Path, required=True)
    d.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="comma-separated (default: all three)")
    d.add_argument("--presets", default=",".join(PRESETS), help="comma-separated (default: all,paper)")
    d.add_argument("--device", default="cpu")
    d.add_argument("--max-samples", type=int, default=CaseOptions.max_samples,
                   help=f"samples per function, source and dtype (default: a run's, {CaseOptions.max_samples})")
    c = sub.add_parser("diff", help="compare two dumps; exit 1 when they differ")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.output, [f for f in args.frameworks.split(",") if f],
                    [p for p in args.presets.split(",") if p], args.device, CaseOptions(max_samples=args.max_samples))
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
