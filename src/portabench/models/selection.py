"""Which models a run tests: ``--models a,b``, ``--preset models`` and ``--preset models-all``.

The catalog (every architecture of the installed sources: timm, torchvision,
transformers) is listed by a worker (``list_models``), since only workers import
frameworks. ``models`` is a seeded, stratified sample of :data:`PRESET_SIZE`
architectures (:func:`stratified_sample`); ``models-all`` is the whole catalog.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from portabench.errors import PortabenchError
from portabench.models.names import MODEL_SOURCES, is_model_name

#: architectures in ``--preset models``
PRESET_SIZE = 150
MODEL_PRESETS = ("models", "models-all")


def is_model_manifest(manifest: Any) -> bool:
    """True for a manifest of whole models (usage coverage of functions does not apply to it)."""
    return manifest.name in (*MODEL_PRESETS, "models-listed")


def stratified_sample(entries: list[dict[str, str]], size: int, seed: int) -> list[dict[str, str]]:
    """A seeded sample of ``size`` catalog entries (``{name, family, size}``), stratified.

    Strata are (source, size class); each gets an equal share of ``size`` (a share
    a stratum cannot fill passes to the others). Within a stratum, families are
    taken round-robin in a seeded order, one random member each, so no family gets
    a second architecture before every family of the stratum has one. The same
    catalog and seed give the same sample. The result interleaves the strata (one of
    each in turn), so a run cut short by its time budget has covered every stratum.
    """
    rng = random.Random(seed)
    strata: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    by_name = {e["name"]: e for e in entries}
    for e in sorted(entries, key=lambda e: e["name"]):
        strata[(e["name"].split(":")[0], e["size"])][e["family"]].append(e["name"])
    orders: dict[tuple[str, str], list[str]] = {}
    for key in sorted(strata):
        families = {f: rng.sample(members, len(members)) for f, members in sorted(strata[key].items())}
        order: list[str] = []
        fam_order = rng.sample(sorted(families), len(families))
        depth = 0
        while len(order) < sum(len(m) for m in families.values()):
            order += [families[f][depth] for f in fam_order if depth < len(families[f])]
            depth += 1
        orders[key] = order
    chosen: dict[tuple[str, str], list[str]] = {key: [] for key in orders}
    remaining = min(size, len(by_name))
    keys = sorted(orders)
    while remaining > 0 and keys:
        share = max(1, remaining // len(keys))
        for key in list(keys):
            take, orders[key] = orders[key][:share], orders[key][share:]
            take = take[:remaining]
            chosen[key] += take
            remaining -= len(take)
            if not orders[key]:
                keys.remove(key)
            if remaining == 0:
                break
    depth = max((len(v) for v in chosen.values()), default=0)
    return [by_name[chosen[key][i]] for i in range(depth) for key in sorted(chosen) if i < len(chosen[key])]


def parse_models(text: str) -> list[str]:
    """``timm:resnet50,hf:gpt2`` -> names (checked for a known source prefix)."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise PortabenchError("--models needs at least one model name")
    bad = [n for n in names if not is_model_name(n)]
    if bad:
        sources = ", ".join(f"{s}:NAME ({what})" for s, what in MODEL_SOURCES.items())
        raise PortabenchError(f"not a model name: {bad[0]!r} (use {sources})")
    return names


def model_manifest(framework: str, preset: str | None, models: str | None, seed: int,
                   catalog: list[dict[str, str]] | None = None) -> Any:
    """The manifest (``portabench.sampling.Manifest``) of a model selection.

    ``catalog`` is the worker's ``list_models`` answer; it is asked for only by the presets.
    """
    from portabench.protocol import ListModelsRequest
    from portabench.runner.session import query_worker
    from portabench.sampling import Manifest, SampledFunction

    if models:
        names = parse_models(models)
        return Manifest(framework, "models-listed", None, [SampledFunction(n, 0, "listed") for n in names])
    if preset not in MODEL_PRESETS:
        raise PortabenchError(f"unknown model preset {preset!r} (choose {', '.join(MODEL_PRESETS)})")
    if catalog is None:
        catalog = query_worker(framework, "cpu", ListModelsRequest()).models
    if not catalog:
        raise PortabenchError(f"no model source is installed for {framework} (pip install transformers, timm or torchvision)")
    chosen = catalog if preset == "models-all" else stratified_sample(catalog, PRESET_SIZE, seed)
    strata = sorted({f"{e['name'].split(':')[0]}/{e['size']}" for e in chosen})
    return Manifest(framework, preset, seed if preset == "models" else None,
                    [SampledFunction(e["name"], 0, "preset") for e in chosen],
                    {"catalog_size": len(catalog), "strata": strata,
                     "families": len({e["family"] for e in chosen})})
