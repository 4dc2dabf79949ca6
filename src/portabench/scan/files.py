"""The Python files of the paths given to ``portabench scan``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from portabench.errors import PortabenchError
from portabench.mining.sources import FileText

#: Directory names never descended into (environments, caches, VCS data).
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", "__pycache__", "node_modules",
    "site-packages", "build", "dist", ".eggs", ".mypy_cache", ".pytest_cache",
})


def python_files(paths: list[str]) -> list[tuple[str, Path]]:
    """``(display path, file)`` for every ``*.py`` file of ``paths`` (directories walked, sorted).

    Display paths are relative to the current directory when the file is below it (what
    SARIF's ``uri`` and editors expect), else absolute. A path that does not exist, or a
    file that is not ``.py``, raises :class:`PortabenchError`.
    """
    out: list[tuple[str, Path]] = []
    cwd = Path.cwd().resolve()
    for spec in paths:
        path = Path(spec).expanduser()
        if not path.exists():
            raise PortabenchError(f"{spec}: no such file or directory")
        if path.is_file():
            if path.suffix != ".py":
                raise PortabenchError(f"{spec}: not a Python file (.py) or directory")
            found = [path]
        else:
            found = sorted(
                p
                for p in path.rglob("*.py")
                if p.is_file()
                and not any(part in SKIPPED_DIRS or part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
        for file in found:
            resolved = file.resolve()
            display = resolved.relative_to(cwd).as_posix() if resolved.is_relative_to(cwd) else resolved.as_posix()
            out.append((display, resolved))
    return list(dict.fromkeys(out))


def read_files(files: list[tuple[str, Path]]) -> Iterator[tuple[str, FileText]]:
    """``(display path, bytes)`` per file; ``None`` for a file that cannot be read."""
    for display, path in files:
        try:
            yield display, path.read_bytes()
        except OSError:
            yield display, None
