"""Mining a list of sources: parse each file, resolve its imports, count its calls."""

from __future__ import annotations

import ast
import warnings
from collections import Counter
from collections.abc import Callable

from portabench.frameworks import get_framework
from portabench.mining.calls import count_calls
from portabench.mining.imports import module_aliases
from portabench.mining.sources import resolve_source
from portabench.mining.table import METHOD_OWNER, MiningResult


def _parse(text: str | bytes) -> ast.Module | None:
    """Parse a module; ``None`` for anything that does not parse (syntax errors, undecodable bytes,
    null bytes, nesting too deep). Bytes are decoded as Python does (UTF-8 or a PEP 263 declaration)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes in old code
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def mine_sources(
    framework: str,
    sources: list[str],
    progress: Callable[[int], None] | None = None,
) -> MiningResult:
    """Count how often each function of ``framework`` is called in ``sources``.

    Args:
        framework: ``torch``, ``jax`` or ``tensorflow`` (aliases accepted); its import
            roots come from :attr:`FrameworkEntry.mining_roots`. The framework itself is
            never imported: mining is pure :mod:`ast`.
        sources: source strings, see :mod:`portabench.mining.sources`. All are resolved
            before any is read, so a bad source fails fast with :class:`PortabenchError`.
        progress: called with the number of files done so far after each file.

    Returns:
        a :class:`MiningResult`. Files that cannot be read, decoded or parsed are counted
        in ``files_skipped`` and otherwise ignored.
    """
    entry = get_framework(framework)
    roots = entry.mining_roots
    owner = METHOD_OWNER.get(entry.name, "Tensor")
    resolved = [resolve_source(spec) for spec in sources]
    calls: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    files_read = files_skipped = done = 0
    for source in resolved:
        for text in source.files():
            tree = _parse(text) if text is not None else None
            if tree is None:
                files_skipped += 1
            else:
                files_read += 1
                found = count_calls(tree, module_aliases(tree, roots), owner)
                calls.update(found.calls)
                methods.update(found.methods)
            done += 1
            if progress is not None:
                progress(done)
    return MiningResult(
        framework=entry.name,
        counts=dict(calls),
        method_candidates=dict(methods),
        files_read=files_read,
        files_skipped=files_skipped,
        sources=[source.describe() for source in resolved],
        source_specs=list(sources),
    )
