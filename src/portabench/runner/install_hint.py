"""The fix to print when a worker fails because a Python module is missing.

A worker that cannot import something (``No module named 'expecttest'``: PyTorch's
test metadata needs it) reports only the exception; the parent turns that into
an error that says what to install: the framework's extra
(``pip install 'portabench[torch]'``) and, when the missing module is not the
framework itself, the module alone.
"""

from __future__ import annotations

import re

from portabench.frameworks import FrameworkEntry

_MISSING = re.compile(r"No module named '([^']+)'")


def missing_module(text: str) -> str | None:
    """The top-level module an ImportError message names as missing, or None."""
    match = _MISSING.search(text or "")
    return match.group(1).split(".")[0] if match else None


def install_hint(entry: FrameworkEntry, text: str) -> str:
    """`` (fix: pip install ...)`` for a message naming a missing module, else ``""``."""
    module = missing_module(text)
    if module is None:
        return ""
    extra = f"pip install 'portabench[{entry.extra}]'"
    if module == entry.import_name:
        return f" (fix: {extra})"
    return f" (fix: {extra}, or just pip install {module})"
