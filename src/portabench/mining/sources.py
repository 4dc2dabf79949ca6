"""Reading Python sources for the usage miner.

A *source* is given as a string on the command line and resolves to a
:class:`Source`, which describes itself as JSON (for the frequency table's
``sources`` list) and yields the text of the Python files it holds:

- a directory: every ``*.py`` file below it (sorted, so counts are reproducible).
  A directory holding exactly one ``*.dist-info`` folder at its top (an unpacked
  wheel) describes itself by the distribution's name and version;
- a single ``.py`` file;
- ``dist:NAME``: the ``.py`` files of an installed distribution, listed by
  :func:`importlib.metadata.files`, described by name and version;
- a ``.jsonl`` file with one JSON object per line whose ``content`` key holds one
  Python file (the codeparrot-clean schema);
- a ``.parquet`` file with a ``content`` column (read with pandas; needs pyarrow).

Files on disk are yielded as bytes (the parser honours PEP 263 ``coding:``
declarations), corpus rows as text; rows that are not text and files that cannot
be read are yielded as ``None`` so that the caller counts them as skipped; a source that does not exist raises
:class:`~portabench.errors.PortabenchError` before anything is read.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portabench.errors import PortabenchError

#: What a source yields per file: its bytes or text, or ``None`` when it cannot be read.
FileText = bytes | str | None


def _read_file(path: Path) -> FileText:
    try:
        return path.read_bytes()
    except OSError:
        return None


@dataclass(frozen=True)
class Source:
    """Base class: one resolved source. Subclasses implement :meth:`describe` and :meth:`files`."""

    spec: str  # the string the user gave

    def describe(self) -> dict[str, Any]:
        """JSON description recorded in the frequency table (``{"path": ...}`` or name/version)."""
        raise NotImplementedError

    def files(self) -> Iterator[FileText]:
        """Yield the content of each Python file, or ``None`` for one that cannot be read."""
        raise NotImplementedError


def _wheel_metadata(directory: Path) -> tuple[str, str] | None:
    """Name and version of an unpacked wheel (exactly one top-level ``*.dist-info``), else ``None``."""
    infos = [p for p in directory.glob("*.dist-info") if p.is_dir()]
    if len(infos) != 1 or not (infos[0] / "METADATA").is_file():
        return None
    try:
        meta = email.parser.Parser().parsestr((infos[0] / "METADATA").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    name, version = meta.get("Name"), meta.get("Version")
    if not name or not version:
        return None
    return str(name), str(version)


@dataclass(frozen=True)
class DirectorySource(Source):
    path: Path

    def describe(self) -> dict[str, Any]:
        wheel = _wheel_metadata(self.path)
        if wheel is not None:
            return {"name": wheel[0], "version": wheel[1]}
        return {"path": str(self.path)}

    def files(self) -> Iterator[FileText]:
        for path in sorted(self.path.rglob("*.py")):
            if path.is_file():
                yield _read_file(path)


@dataclass(frozen=True)
class FileSource(Source):
    path: Path

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path)}

    def files(self) -> Iterator[FileText]:
        yield _read_file(self.path)


@dataclass(frozen=True)
class DistributionSource(Source):
    dist: importlib.metadata.Distribution

    def describe(self) -> dict[str, Any]:
        return {"name": self.dist.metadata["Name"], "version": self.dist.version}

    def files(self) -> Iterator[FileText]:
        listed = self.dist.files or []
        for entry in sorted(listed, key=str):
            if entry.suffix != ".py":
                continue
            yield _read_file(Path(str(self.dist.locate_file(entry))))


@dataclass(frozen=True)
class JsonlSource(Source):
    path: Path

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path)}

    def files(self) -> Iterator[FileText]:
        """One file per non-empty line; a line that is not an object with a string ``content`` yields ``None``."""
        try:
            handle = self.path.open("r", encoding="utf-8", errors="replace")
        except OSError as exc:
            raise PortabenchError(f"cannot read {self.path}: {exc.strerror}") from None
        with handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    yield None
                    continue
                content = row.get("content") if isinstance(row, dict) else None
                yield content if isinstance(content, str) else None


@dataclass(frozen=True)
class ParquetSource(Source):
    path: Path

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path)}

    def _column(self) -> list[Any]:
        try:
            import pandas as pd

            frame = pd.read_parquet(self.path, columns=["content"])
        except ImportError:
            raise PortabenchError(
                f"reading {self.path} needs pyarrow (pip install 'portabench[parquet]')"
            ) from None
        except (KeyError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PortabenchError(f"{self.path} has no readable 'content' column ({first})") from None
        except OSError as exc:
            raise PortabenchError(f"cannot read {self.path} as parquet: {exc}") from None
        if "content" not in frame.columns:
            raise PortabenchError(f"{self.path} has no 'content' column")
        return frame["content"].tolist()

    def files(self) -> Iterator[FileText]:
        for content in self._column():
            yield content if isinstance(content, str) else None


def resolve_source(spec: str) -> Source:
    """Turn a source string into a :class:`Source`; unknown or missing sources raise PortabenchError."""
    if spec.startswith("dist:"):
        name = spec[len("dist:") :].strip()
        if not name:
            raise PortabenchError("empty distribution name in source 'dist:'")
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise PortabenchError(f"distribution {name!r} is not installed (source {spec!r})") from None
        if dist.files is None:
            raise PortabenchError(f"distribution {name!r} lists no files (no RECORD); mine its directory instead")
        return DistributionSource(spec=spec, dist=dist)
    path = Path(spec).expanduser()
    if not path.exists():
        raise PortabenchError(f"source {spec!r} does not exist")
    if path.is_dir():
        return DirectorySource(spec=spec, path=path)
    suffix = path.suffix.lower()
    if suffix == ".py":
        return FileSource(spec=spec, path=path)
    if suffix == ".jsonl":
        return JsonlSource(spec=spec, path=path)
    if suffix == ".parquet":
        return ParquetSource(spec=spec, path=path)
    raise PortabenchError(
        f"source {spec!r} is not a directory, .py, .jsonl or .parquet file, nor dist:NAME"
    )
