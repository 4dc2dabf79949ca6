"""From a frequency table to a manifest: the list of functions a run tests.

The paper's scheme (:func:`sample_functions`): every function with at least one
use is ranked by decreasing frequency (ties broken by name, so the ranking is a
function of the table alone); the ``top`` most used are taken as bucket ``"top"``;
the remaining ranked functions are cut into 10 contiguous deciles of (nearly)
equal size -- ``decile-10`` holds the most used of them, ``decile-1`` the least
used, as the paper's buckets 100 .. 10 -- and ``per_decile`` functions are drawn
from each decile without replacement with ``random.Random(seed)``. The same
seed and table always give the same manifest.

With ``include_methods`` the table's method candidates join the ranking as
``<root>.<Owner>.<method>`` (``torch.Tensor.sum``, ``jax.Array.sum``,
``tensorflow.Tensor.shape``); a name present both as a call and as a method
candidate gets the sum of both counts.

Other manifests: :func:`preset_manifest` (``paper``: the functions the paper
sampled, shipped in ``portabench/data/presets``; ``all``: every function that has
cases, listed with its case count when the counts are given -- an empty ``all``
manifest means the same to the runner) and
:func:`listed_manifest` (names given on the command line).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portabench.errors import PortabenchError
from portabench.frameworks import get_framework
from portabench.mining import validate_frequency_table

MANIFEST_FORMAT = "portabench-manifest/1"
BUCKETS = ("top", *(f"decile-{i}" for i in range(1, 11)), "preset", "listed")
N_DECILES = 10
#: functions drawn from each usage decile by the default sample (``--per-decile``)
DEFAULT_PER_DECILE = 5
#: the most used functions the default sample takes before drawing the deciles (``--top``)
DEFAULT_TOP = 20


@dataclass
class SampledFunction:
    """One function of a manifest: its qualified name, its frequency in the table (0 if
    absent or no table), the bucket it was chosen from (one of :data:`BUCKETS`) and, when
    known, how many cases it has (``None``: not counted; 0: drawn but without cases)."""

    function: str
    frequency: int
    bucket: str
    cases: int | None = None


@dataclass
class Manifest:
    """The functions a run tests, in order.

    Attributes:
        framework: canonical framework name.
        name: ``"sampled"``, ``"paper"``, ``"listed"`` or ``"all"`` (empty ``functions``:
            every function that has cases, resolved by the runner).
        seed: the sampling seed; ``None`` for manifests that are not sampled.
        functions: the functions, without duplicates.
        params: how the manifest was made (sampling parameters, table sources); informative.
    """

    framework: str
    name: str
    seed: int | None
    functions: list[SampledFunction]
    params: dict[str, Any] = field(default_factory=dict)

    def names(self) -> list[str]:
        """The qualified names, in manifest order."""
        return [f.function for f in self.functions]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "framework": self.framework,
            "name": self.name,
            "seed": self.seed,
            "params": dict(self.params),
            "functions": [
                {"function": f.function, "frequency": f.frequency, "bucket": f.bucket,
                 **({} if f.cases is None else {"cases": f.cases})} for f in self.functions
            ],
        }

    def with_case_counts(self, counts: dict[str, int]) -> Manifest:
        """A copy whose functions carry ``counts[name]`` cases (0 for a name absent from ``counts``)."""
        functions = [
            SampledFunction(f.function, f.frequency, f.bucket, counts.get(f.function, 0)) for f in self.functions
        ]
        return Manifest(self.framework, self.name, self.seed, functions, dict(self.params))

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Rebuild a manifest from :meth:`to_json` output; malformed data raises PortabenchError."""
        if not isinstance(data, dict):
            raise PortabenchError("manifest: expected a JSON object")
        if data.get("format", MANIFEST_FORMAT) != MANIFEST_FORMAT:
            raise PortabenchError(f"manifest: unknown format {data.get('format')!r} (expected {MANIFEST_FORMAT!r})")
        framework = data.get("framework")
        if not isinstance(framework, str):
            raise PortabenchError("manifest: missing 'framework'")
        framework = get_framework(framework).name
        name, seed, params = data.get("name"), data.get("seed"), data.get("params", {})
        if not isinstance(name, str) or not name:
            raise PortabenchError("manifest: missing 'name'")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise PortabenchError(f"manifest: 'seed' must be an integer or null, not {seed!r}")
        if not isinstance(params, dict):
            raise PortabenchError("manifest: 'params' must be an object")
        raw = data.get("functions")
        if not isinstance(raw, list):
            raise PortabenchError("manifest: 'functions' must be a list")
        functions = [_sampled_function(i, item) for i, item in enumerate(raw)]
        return cls(framework=framework, name=name, seed=seed, functions=functions, params=params)


def _is_count(x: Any) -> bool:
    """A non-negative int (not a bool)."""
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _sampled_function(i: int, item: Any) -> SampledFunction:
    """Entry ``i`` of a manifest's ``functions`` list; malformed entries raise PortabenchError."""
    if not isinstance(item, dict) or not isinstance(item.get("function"), str) or not item["function"]:
        raise PortabenchError(f"manifest: functions[{i}] must be an object with a 'function' name")
    frequency, bucket = item.get("frequency", 0), item.get("bucket", "listed")
    if not _is_count(frequency):
        raise PortabenchError(f"manifest: functions[{i}].frequency must be a non-negative integer")
    if bucket not in BUCKETS:
        raise PortabenchError(f"manifest: functions[{i}].bucket {bucket!r} is not one of {', '.join(BUCKETS)}")
    cases = item.get("cases")
    if cases is not None and not _is_count(cases):
        raise PortabenchError(f"manifest: functions[{i}].cases must be a non-negative integer")
    return SampledFunction(item["function"], frequency, bucket, cases)


def _root(framework: str) -> str:
    return get_framework(framework).mining_roots[0]


def _check_table(framework: str, table: dict[str, Any]) -> dict[str, Any]:
    table = validate_frequency_table(table)
    if get_framework(table["framework"]).name != framework:
        raise PortabenchError(f"the frequency table is for {table['framework']}, not {framework}")
    return table


def ranked_frequencies(framework: str, table: dict[str, Any], include_methods: bool = True) -> list[tuple[str, int]]:
    """``(name, frequency)`` of every function used at least once, most used first, ties by name."""
    framework = get_framework(framework).name
    table = _check_table(framework, table)
    combined: dict[str, int] = {}
    for name, count in table["counts"].items():
        combined[name] = combined.get(name, 0) + count
    if include_methods:
        root = _root(framework)
        for name, count in table["method_candidates"].items():
            key = f"{root}.{name}"
            combined[key] = combined.get(key, 0) + count
    return sorted(((n, c) for n, c in combined.items() if c >= 1), key=lambda item: (-item[1], item[0]))


def _split_deciles(ranked: list[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    """Cut a ranked list into 10 contiguous chunks whose sizes differ by at most one (first = most used)."""
    size, extra = divmod(len(ranked), N_DECILES)
    chunks, start = [], 0
    for i in range(N_DECILES):
        end = start + size + (1 if i < extra else 0)
        chunks.append(ranked[start:end])
        start = end
    return chunks


def sample_functions(
    framework: str,
    table: dict[str, Any],
    per_decile: int = DEFAULT_PER_DECILE,
    top: int = DEFAULT_TOP,
    seed: int = 0,
    include_methods: bool = True,
    known: set[str] | None = None,
    with_cases: set[str] | None = None,
) -> Manifest:
    """Sample functions the paper's way (see the module docstring).

    Returns a manifest named ``"sampled"``: the ``top`` most used functions (bucket
    ``"top"``, most used first), then ``per_decile`` functions of each decile from
    ``decile-10`` down to ``decile-1`` (fewer when a decile is smaller). Raises
    PortabenchError for negative sizes or a table of another framework.

    ``known`` (the installed framework's API) drops mined names that do not exist
    in it before ranking. ``with_cases`` (the functions that have cases) does *not*
    change what is drawn: it only records, in ``params``, how many drawn functions
    have cases, which do not, and the coverage of the table
    (:meth:`portabench.coverage.Coverage.summary`).
    """
    framework = get_framework(framework).name
    if per_decile < 0 or top < 0:
        raise PortabenchError("per_decile and top must not be negative")
    ranked = ranked_frequencies(framework, table, include_methods)
    if known is not None:
        ranked = [item for item in ranked if item[0] in known]
    top_items = ranked[:top]
    functions = [SampledFunction(name, freq, "top") for name, freq in top_items]
    top_names = {name for name, _ in top_items}
    rng = random.Random(seed)
    chunks = _split_deciles([item for item in ranked if item[0] not in top_names])  # chunks[0]: decile-10
    drawn: dict[int, list[tuple[str, int]]] = {}
    for decile in range(1, N_DECILES + 1):  # draw from decile-1 upward, in a fixed order
        chunk = chunks[N_DECILES - decile]
        picked = rng.sample(chunk, min(per_decile, len(chunk)))
        drawn[decile] = sorted(picked, key=lambda item: (-item[1], item[0]))
    for decile in range(N_DECILES, 0, -1):
        functions.extend(SampledFunction(name, freq, f"decile-{decile}") for name, freq in drawn[decile])
    params = {
        "per_decile": per_decile,
        "top": top,
        "include_methods": include_methods,
        "ranked_functions": len(ranked),
        "restricted_to_api": known is not None,
        "drawn_among": "all used functions",
        "table_sources": table.get("sources", []),
    }
    if with_cases is not None:
        from portabench.coverage import measure_coverage

        params["with_cases"] = sum(1 for f in functions if f.function in with_cases)
        params["drawn_without_cases"] = [f.function for f in functions if f.function not in with_cases]
        params["coverage"] = measure_coverage(framework, table, with_cases).summary()
    return Manifest(framework=framework, name="sampled", seed=seed, functions=functions, params=params)


def _frequency_lookup(framework: str, table: dict[str, Any] | None) -> dict[str, int]:
    if table is None:
        return {}
    return dict(ranked_frequencies(framework, table, include_methods=True))


def preset_manifest(
    framework: str, preset: str, table: dict[str, Any] | None = None, case_counts: dict[str, int] | None = None
) -> Manifest:
    """A named preset: ``"paper"`` (the paper's sampled functions, bucket ``"preset"``) or
    ``"all"`` (every function that has cases). For ``"all"`` without ``case_counts`` the
    manifest is empty (the runner resolves it); with ``case_counts`` (function -> number
    of cases, from a worker) it lists every function with at least one case, most used
    first then by name, bucket ``"preset"``, with its count -- a manifest a user can read,
    edit and pass back with ``--sample``. Frequencies come from ``table`` when given,
    else 0. Unknown presets raise PortabenchError."""
    entry = get_framework(framework)
    if preset == "all":
        if case_counts is None:
            return Manifest(framework=entry.name, name="all", seed=None, functions=[])
        frequencies = _frequency_lookup(entry.name, table)
        names = sorted((n for n, c in case_counts.items() if c > 0), key=lambda n: (-frequencies.get(n, 0), n))
        functions = [SampledFunction(n, frequencies.get(n, 0), "preset", case_counts[n]) for n in names]
        return Manifest(
            framework=entry.name,
            name="all",
            seed=None,
            functions=functions,
            params={"cases": sum(f.cases or 0 for f in functions)},
        )
    if preset != "paper":
        raise PortabenchError(f"unknown preset {preset!r} (choose from paper, all)")
    frequencies = _frequency_lookup(entry.name, table)
    functions = [SampledFunction(n, frequencies.get(n, 0), "preset") for n in entry.paper_preset()]
    return Manifest(framework=entry.name, name="paper", seed=None, functions=functions)


def listed_manifest(framework: str, names: list[str], table: dict[str, Any] | None = None) -> Manifest:
    """A manifest of the given qualified names (``--functions a,b,c``), bucket ``"listed"``.

    Names are stripped and deduplicated (first occurrence wins); for tensorflow a
    ``tf.`` prefix is read as ``tensorflow.``. Names outside the framework's root
    module are allowed: they are the user's own functions (a custom op, a model
    block) given cases by ``--specs`` files. At least one name must be given;
    otherwise PortabenchError.
    """
    entry = get_framework(framework)
    frequencies = _frequency_lookup(entry.name, table)
    seen: dict[str, None] = {}
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if entry.name == "tensorflow" and name.startswith("tf."):
            name = "tensorflow." + name[len("tf.") :]
        seen.setdefault(name, None)
    if not seen:
        raise PortabenchError("no function names given")
    functions = [SampledFunction(n, frequencies.get(n, 0), "listed") for n in seen]
    return Manifest(framework=entry.name, name="listed", seed=None, functions=functions)


def load_manifest(path: str | Path) -> Manifest:
    """Read a manifest JSON file written from :meth:`Manifest.to_json`; any problem raises PortabenchError."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PortabenchError(f"cannot read manifest {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PortabenchError(f"manifest {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        return Manifest.from_json(data)
    except PortabenchError as exc:
        raise PortabenchError(f"{path}: {exc}") from None


def shipped_table_names() -> list[str]:
    """Names of the frequency tables shipped in ``portabench/data/frequencies``: ``torch`` (libraries),
    ``torch-apps`` (application-style code), ... (docs/sampling.md)."""
    from importlib import resources

    folder = resources.files("portabench.data") / "frequencies"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def resolve_table(ref: str | None) -> str | None:
    """A ``--table`` value as :func:`portabench.mining.load_frequency_table` takes it: ``None`` stays
    ``None`` (the framework's shipped library table), an existing file stays as it is, and the name
    of a shipped table (``torch-apps``) becomes that table's file."""
    from importlib import resources

    if ref is None or Path(ref).expanduser().exists() or ref not in shipped_table_names():
        return ref
    return str(resources.files("portabench.data") / "frequencies" / f"{ref}.json")
