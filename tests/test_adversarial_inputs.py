"""Adversarial suite, command line: bad input against a store holding real results.

Every input must be refused with one line (``portabench: error: ...``, exit 2) and leave every file
of the folder byte-identical, with no file added. Runs ``portabench.cli.main`` in this process with
the numpy-only fake framework registered, so no framework starts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import fake_adapter
from portabench.cli import main
from portabench.frameworks import FRAMEWORKS
from portabench.sampling import MANIFEST_FORMAT
from portabench.store.schema import SCHEMA_VERSION


def _sqlite(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a complete fake run, one with an interrupted run, and hostile files beside them."""
    mp = pytest.MonkeyPatch()
    mp.setitem(FRAMEWORKS, "fake", fake_adapter.ENTRY)
    root = tmp_path_factory.mktemp("adversarial")
    (root / "manifest.json").write_text(json.dumps({
        "format": MANIFEST_FORMAT, "framework": "fake", "name": "listed", "seed": None, "params": {},
        "functions": [{"function": "fake.ok_1"}, {"function": "fake.ok_2"}]}))
    (root / "spec.toml").write_text('format = 1\nframework = "fake"\n')
    base = ["run", "--framework", "fake", "--device", "cpu", "--sample", str(root / "manifest.json"),
            "--dtypes", "float32", "--repeats", "1", "--time-budget", "0"]
    assert main([*base, "--store", str(root / "results.sqlite")]) == 0
    # an interrupted run (stopped by its budget through the library) to try bad resumes on
    from portabench.frameworks.timer import TimingConfig
    from portabench.runner.session import RunRequest, execute_run
    from portabench.store import Store

    with Store(root / "stopped.sqlite") as store:
        execute_run(store, RunRequest(framework="fake", device="cpu", reference="cpu", functions=["fake.ok_1", "fake.ok_2"],
                                      sample=json.loads((root / "manifest.json").read_text()), dtypes=["float32"],
                                      specs=[str(root / "spec.toml")], budget_s=0.0, do_timing=False,
                                      timing=TimingConfig(min_repeats=1, budget_s=0.0)))
    _sqlite(root / "foreign-v1.db", "CREATE TABLE notes (x)", "PRAGMA user_version = 1")
    _sqlite(root / "foreign-v0.db", "CREATE TABLE notes (x)")
    _sqlite(root / "foreign-appid.db", "CREATE TABLE t (x)", "PRAGMA application_id = 42", "PRAGMA user_version = 3")
    _sqlite(root / "newer.sqlite", f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    (root / "empty.sqlite").touch()
    (root / "garbage.sqlite").write_bytes(b"not a database at all " * 64)
    (root / "folder.sqlite").mkdir()
    (root / "bad-key.toml").write_text('format = 1\nframework = "fake"\n[[function]]\nname = "f"\nsetup = "x"\n'
                                       'oops = 1\n[[function.case]]\ncall = "1"\n')
    (root / "bad-table.toml").write_text('format = 1\nframework = "fake"\nfunction = "f"\n')
    (root / "bad-case.toml").write_text('format = 1\nframework = "fake"\n[[function]]\nname = "f"\ncase = ["x"]\n')
    (root / "bad-setup.toml").write_text('format = 1\nframework = "fake"\n[[function]]\nname = "f"\nsetup = 1\n'
                                         '[[function.case]]\ncall = "1"\n')
    (root / "conflict.sqlite").write_bytes((root / "results.sqlite").read_bytes())
    _sqlite(root / "conflict.sqlite", "UPDATE runs SET device_name = 'another machine'")
    yield root
    mp.undo()


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _run_args(root: Path, store: str, *extra: str, dtypes: str = "float32") -> list[str]:
    return ["run", "--framework", "fake", "--device", "cpu", "--sample", str(root / "manifest.json"),
            "--dtypes", dtypes, "--repeats", "1", "--time-budget", "0", "--store", str(root / store), *extra]


#: (id, argv builder, text the one-line error must hold)
BAD_INPUTS: list[tuple[str, Callable[[Path], list[str]], str]] = [
    ("run into foreign db with user_version 1", lambda r: _run_args(r, "foreign-v1.db"), "another application"),
    ("run into foreign db with tables", lambda r: _run_args(r, "foreign-v0.db"), "not a portabench store"),
    ("run into foreign application_id", lambda r: _run_args(r, "foreign-appid.db"), "application_id 42"),
    ("run into newer schema", lambda r: _run_args(r, "newer.sqlite"), "schema version"),
    ("run into garbage", lambda r: _run_args(r, "garbage.sqlite"), "not a readable SQLite file"),
    ("run into a folder", lambda r: _run_args(r, "folder.sqlite"), "is a directory"),
    ("report on foreign db with user_version 1", lambda r: ["report", str(r / "foreign-v1.db")], "another application"),
    ("report on empty file", lambda r: ["report", str(r / "empty.sqlite")], "empty file"),
    ("report on garbage", lambda r: ["report", str(r / "garbage.sqlite")], "not a readable SQLite file"),
    ("report on missing store", lambda r: ["report", str(r / "missing.sqlite")], "does not exist"),
    ("export from foreign db", lambda r: ["export", "--store", str(r / "foreign-v1.db"), "-o", str(r / "x.csv")],
     "another application"),
    ("merge conflicting runs into a new file",
     lambda r: ["merge", str(r / "results.sqlite"), str(r / "conflict.sqlite"), "-o", str(r / "merged.sqlite")],
     "different metadata"),
    ("merge conflicting runs into an existing store",
     lambda r: ["merge", str(r / "stopped.sqlite"), str(r / "conflict.sqlite"), "-o", str(r / "results.sqlite")],
     "different metadata"),
    ("merge a store into itself", lambda r: ["merge", str(r / "results.sqlite"), "-o", str(r / "results.sqlite")],
     "into itself"),
    ("merge a foreign db", lambda r: ["merge", str(r / "foreign-v1.db"), "-o", str(r / "results.sqlite")],
     "another application"),
    ("merge from a missing store", lambda r: ["merge", str(r / "missing.sqlite"), "-o", str(r / "results.sqlite")],
     "does not exist"),
    ("resume a complete run", lambda r: _run_args(r, "results.sqlite", "--resume"), "nothing to resume"),
    ("resume with other dtypes", lambda r: _run_args(r, "stopped.sqlite", "--resume", "--no-timing", "--specs",
                                                     str(r / "spec.toml"), dtypes="float64"), "other options \\(dtypes\\)"),
    ("resume with timing dropped back on",
     lambda r: _run_args(r, "stopped.sqlite", "--resume", "--specs", str(r / "spec.toml")), "other options \\(do_timing\\)"),
    ("resume with another spec file", lambda r: _run_args(r, "stopped.sqlite", "--resume", "--no-timing", "--specs",
                                                          str(r / "bad-table.toml")), "must be tables"),
    ("spec with an unknown key", lambda r: _run_args(r, "results.sqlite", "--specs", str(r / "bad-key.toml")),
     "unknown key 'oops'"),
    ("spec whose function is not a table",
     lambda r: _run_args(r, "results.sqlite", "--specs", str(r / "bad-table.toml")), "must be tables"),
    ("spec whose case is not a table",
     lambda r: _run_args(r, "results.sqlite", "--specs", str(r / "bad-case.toml")), "'case' must be tables"),
    ("spec whose setup is not a string",
     lambda r: _run_args(r, "results.sqlite", "--specs", str(r / "bad-setup.toml")), "'setup' must be a str"),
    ("unknown framework", lambda r: ["run", "--framework", "nosuch", "--device", "cpu", "--store",
                                     str(r / "results.sqlite")], "unknown framework"),
]


@pytest.mark.parametrize("name, argv, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_one_line_and_leaves_every_file_byte_identical(
        folder: Path, capsys: pytest.CaptureFixture[str], name: str, argv: Callable[[Path], list[str]], message: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FRAMEWORKS, "fake", fake_adapter.ENTRY)
    before = _snapshot(folder)
    capsys.readouterr()
    code = main(argv(folder))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("portabench: error:"), (code, err)
    assert __import__("re").search(message, err[0]), err[0]
    assert _snapshot(folder) == before
