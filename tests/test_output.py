"""portabench.commands.output: outputs checked before the work, parents created, written whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portabench.commands.output import check_output_dir, check_output_file, write_output, write_with
from portabench.errors import PortabenchError


def test_parents_are_created_and_the_file_written(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.md"
    assert check_output_file(target) == target and target.parent.is_dir() and not target.exists()
    write_output(target, "text")
    assert target.read_text() == "text"
    assert [p.name for p in target.parent.iterdir()] == ["out.md"]


def test_written_file_has_the_usual_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_output(tmp_path / "x.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o644


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")

    def broken(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_with(target, broken)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text("old")
    (tmp_path / "link.md").symlink_to("real.md")
    write_output(tmp_path / "link.md", "new")
    assert (tmp_path / "link.md").is_symlink() and (tmp_path / "real.md").read_text() == "new"


@pytest.mark.parametrize("path", ["/proc/portabench.out", "/proc/no/such/dir/x.md"])
def test_unwritable_places_are_refused(path: str) -> None:
    with pytest.raises(PortabenchError, match="cannot write"):
        check_output_file(path)


def test_a_file_where_a_directory_is_expected_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(PortabenchError, match="it is a file"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(PortabenchError, match="it is a directory"):
        check_output_file(tmp_path)
