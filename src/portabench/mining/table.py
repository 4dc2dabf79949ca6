"""The frequency-table format: :class:`MiningResult` writes it, :func:`load_frequency_table` reads it.

A table is a JSON object::

    {"format": "portabench-frequencies/1", "framework": "torch",
     "generated_by": "portabench mine --framework torch dist:transformers",
     "sources": [{"name": "transformers", "version": "4.57.1"}],
     "files_read": 123, "files_skipped": 0,
     "counts": {"torch.nn.Linear": 456},
     "method_candidates": {"Tensor.view": 99},
     "indirect": {"decorator": {"jax.jit": 7}, "value": {"torch.nn.GELU": 3}}}

``counts`` keys are qualified names under the framework's real top-level module;
``method_candidates`` keys are ``<Owner>.<method>`` (``Tensor`` for torch and
tensorflow, ``Array`` for jax). ``indirect`` (optional, ``{}`` when absent) counts uses
that are not calls, by kind: bare decorators and callables passed as values; they are
not in ``counts``, so a frequency table can include or exclude them. All map to non-negative integers and are written
sorted by decreasing count, then name. Optional extra keys (``note``) are kept.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from portabench.errors import PortabenchError
from portabench.frameworks import FRAMEWORKS, get_framework

FORMAT = "portabench-frequencies/1"


def _sorted_counts(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@dataclass
class MiningResult:
    """What :func:`portabench.mining.mine_sources` found.

    Attributes:
        framework: canonical framework name.
        counts: qualified name -> number of calls (``"torch.nn.functional.relu": 12``).
        method_candidates: ``"Tensor.sum": 40``: method calls on values the miner cannot type.
        files_read: files parsed successfully.
        files_skipped: files that could not be read, decoded or parsed.
        sources: one description per source (``{"name", "version"}`` or ``{"path"}``).
        generated_by: the command that produced the table; defaults to the equivalent
            ``portabench mine`` command line.
    """

    framework: str
    counts: dict[str, int]
    method_candidates: dict[str, int]
    files_read: int
    files_skipped: int
    sources: list[dict[str, Any]]
    generated_by: str | None = None
    source_specs: list[str] = field(default_factory=list)
    indirect: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> name -> count

    def to_json(self) -> dict[str, Any]:
        """The frequency-table JSON object (see the module docstring)."""
        generated_by = self.generated_by
        if generated_by is None:
            generated_by = shlex.join(["portabench", "mine", "--framework", self.framework, *self.source_specs])
        return {
            "format": FORMAT,
            "framework": self.framework,
            "generated_by": generated_by,
            "sources": [dict(s) for s in self.sources],
            "files_read": self.files_read,
            "files_skipped": self.files_skipped,
            "counts": _sorted_counts(self.counts),
            "method_candidates": _sorted_counts(self.method_candidates),
            "indirect": {kind: _sorted_counts(c) for kind, c in sorted(self.indirect.items())},
        }


def _check_counts(data: dict[str, Any], key: str, origin: str) -> dict[str, int]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PortabenchError(f"{origin}: {key!r} must be an object of name -> count")
    for name, count in value.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise PortabenchError(f"{origin}: {key}[{name!r}] must be a non-negative integer, not {count!r}")
    return value


def validate_frequency_table(data: Any, origin: str = "frequency table") -> dict[str, Any]:
    """Check that ``data`` is a frequency table and return it (``method_candidates`` defaults to {}).

    Raises :class:`PortabenchError` with a one-line message naming ``origin`` otherwise.
    """
    if not isinstance(data, dict):
        raise PortabenchError(f"{origin}: not a frequency table (expected a JSON object)")
    if data.get("format") != FORMAT:
        raise PortabenchError(f"{origin}: unknown format {data.get('format')!r} (expected {FORMAT!r})")
    framework = data.get("framework")
    if not isinstance(framework, str) or framework not in FRAMEWORKS:
        raise PortabenchError(f"{origin}: unknown framework {framework!r}")
    _check_counts(data, "counts", origin)
    if "method_candidates" not in data:
        data["method_candidates"] = {}
    _check_counts(data, "method_candidates", origin)
    indirect = data.setdefault("indirect", {})
    if not isinstance(indirect, dict):
        raise PortabenchError(f"{origin}: 'indirect' must be an object of kind -> counts")
    for kind in list(indirect):
        _check_counts(indirect, kind, f"{origin} (indirect)")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise PortabenchError(f"{origin}: 'sources' must be a list of objects")
    data["sources"] = sources
    return data


def default_table_path(framework: str) -> Traversable:
    """Where the shipped default table of ``framework`` lives inside the package."""
    name = get_framework(framework).name
    return resources.files("portabench.data") / "frequencies" / f"{name}.json"


def load_frequency_table(path_or_framework: str | Path) -> dict[str, Any]:
    """Load and validate a frequency table.

    ``path_or_framework`` is a path to a table JSON file, or a framework name or alias
    (``torch``, ``tf``) for the table shipped with portabench. A path that exists wins
    over a framework of the same name. Missing, unparseable or malformed files raise
    :class:`PortabenchError`.
    """
    text_path = str(path_or_framework)
    path = Path(text_path).expanduser()
    if not path.exists() and ("/" not in text_path and not text_path.endswith(".json")):
        try:
            shipped = default_table_path(text_path)
        except PortabenchError:
            raise PortabenchError(
                f"frequency table {text_path!r} is neither an existing file nor a framework name"
            ) from None
        if not shipped.is_file():
            raise PortabenchError(f"no default frequency table is shipped for {text_path}")
        origin, text = f"shipped table {shipped.name}", shipped.read_text(encoding="utf-8")
    else:
        if not path.is_file():
            raise PortabenchError(f"frequency table {text_path!r} does not exist")
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PortabenchError(f"cannot read frequency table {origin}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PortabenchError(f"{origin}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return validate_frequency_table(data, origin)
