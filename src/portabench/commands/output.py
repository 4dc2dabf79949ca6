"""Output files and directories of the commands (``-o``, ``--html``): checked before the work, written whole.

Every command that writes a file calls :func:`check_output_file` (or
:func:`check_output_dir`) *before* its work, so a path that cannot be written
(a read-only directory, ``/proc``, a file where a directory should be) is a
one-line :class:`PortabenchError` at once, not a traceback after minutes of
work. Missing parent directories are created, as ``--html a/b/c`` always did.
:func:`write_output` writes through a temporary file in the same directory and
renames it into place, so a failed write never leaves a truncated file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from portabench.errors import PortabenchError


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output_dir(path: str | Path) -> Path:
    """Create directory ``path`` (and its parents) if needed and prove a file can be created in it."""
    directory = Path(path).expanduser()
    if directory.exists() and not directory.is_dir():
        raise PortabenchError(f"cannot write into {directory}: it is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".portabench-probe-"):
            pass
    except OSError as exc:
        raise PortabenchError(f"cannot write into {directory}: {_reason(exc)}") from None
    return directory


def check_output_file(path: str | Path) -> Path:
    """Check that file ``path`` can be written (creating its parent directories); returns it as a Path.

    Nothing is written to ``path`` itself: an existing file keeps its content until :func:`write_output`.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise PortabenchError(f"cannot write {target}: it is a directory")
    if _is_special(target):  # /dev/stdout, a named pipe: written in place
        if not os.access(target, os.W_OK):
            raise PortabenchError(f"cannot write {target}: permission denied")
        return target
    real = Path(os.path.realpath(target))  # a symlink is written through, not replaced
    check_output_dir(real.parent)
    if real.exists() and not os.access(real, os.W_OK):
        raise PortabenchError(f"cannot write {target}: permission denied")
    return target


def _is_special(target: Path) -> bool:
    """An existing output that is neither a regular file nor a directory (a device, a pipe)."""
    return target.exists() and not target.is_file() and not target.is_dir()


def _file_mode(target: Path) -> int:
    """The mode a plainly created file would get (or the existing file's): mkstemp's 0600 is too strict."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def output_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on failure it is removed.

    A device or pipe (``-o /dev/stdout``) is yielded itself and written in place.
    """
    target = check_output_file(path)
    if _is_special(target):
        try:
            yield target
        except OSError as exc:
            raise PortabenchError(f"cannot write {target}: {_reason(exc)}") from None
        return
    target = Path(os.path.realpath(target))
    # the temporary name ends like the target's, so writers that read the suffix (pandas: .csv.gz) see the same
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".portabench-", suffix=f"-{target.name}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PortabenchError(f"cannot write {target}: {_reason(exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` whole (temporary file, then rename); errors are one-line PortabenchErrors."""
    with output_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path).expanduser()


def write_with(path: str | Path, writer: Callable[[Path], object]) -> Path:
    """Let ``writer(tmp_path)`` write the file, then move it into place (as :func:`write_output`)."""
    with output_path(path) as tmp:
        writer(tmp)
    return Path(path).expanduser()
