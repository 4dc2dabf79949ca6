"""The layers stay apart: the parent imports no framework, frameworks/ imports neither side of the runner,
the parent side and the worker side never import each other."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "portabench"
FRAMEWORK_MODULES = ("torch", "jax", "tensorflow")


def _imports(path: Path, root: Path = SRC) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved against the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return out


def _offending(folder: Path, forbidden: tuple[str, ...], root: Path = SRC) -> dict[str, list[str]]:
    """File -> the forbidden modules it imports (anywhere in it, function-level imports included)."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        bad = sorted(m for m in _imports(path, root) if any(m == f or m.startswith(f + ".") for f in forbidden))
        if bad:
            found[str(path.relative_to(root))] = bad
    return found


def test_frameworks_import_neither_the_runner_nor_the_worker() -> None:
    assert _offending(PACKAGE / "frameworks", ("portabench.runner", "portabench.worker")) == {}


def test_parent_and_worker_sides_never_import_each_other() -> None:
    assert _offending(PACKAGE / "worker", ("portabench.runner",)) == {}
    assert _offending(PACKAGE / "runner", ("portabench.worker",)) == {}
    assert not {m for m in _imports(PACKAGE / "protocol.py") if m.startswith(("portabench.runner", "portabench.worker"))}


def test_the_ast_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    folder = tmp_path / "portabench" / "frameworks"
    folder.mkdir(parents=True)
    (folder / "bad.py").write_text("def f():\n    from ..worker import loop\n")
    (folder / "good.py").write_text("import numpy\n")
    assert _offending(folder, ("portabench.worker",), root=tmp_path) == {
        "portabench/frameworks/bad.py": ["portabench.worker", "portabench.worker.loop"]}


@pytest.mark.parametrize("modules", [
    ["portabench.cli", "portabench.commands.run", "portabench.commands.study"],
    ["portabench.runner.session", "portabench.runner.dispatch", "portabench.runner.process", "portabench.protocol"],
    ["portabench.study", "portabench.study_plan", "portabench.frameworks", "portabench.frameworks.timer"],
])
def test_parent_modules_import_no_framework(modules: list[str]) -> None:
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORK_MODULES!r})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
