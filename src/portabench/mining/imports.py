"""Resolving a module's import aliases to qualified names.

:func:`module_aliases` reads the *module-level* imports of a parsed file (also
those nested in module-level ``if``/``try``/``with`` blocks, such as
``try: import torch`` or ``if TYPE_CHECKING:``) and returns an
:class:`AliasTable`: local name -> qualified dotted name, e.g.
``{"F": "torch.nn.functional", "jnp": "jax.numpy", "tf": "tensorflow.compat.v1"}``.

Deliberately not resolved (see docs/mining.md):
- imports inside functions and classes (their scope is not the module's);
- ``from x import *`` (the names it binds are unknown without importing x);
- relative imports (``from . import y``): they never name a framework;
- ``tensorflow.compat.v2`` is rewritten to ``tensorflow`` (:data:`CANONICAL_PREFIXES`);
  ``tensorflow.compat.v1`` names keep their prefix;
- rebinding after import (``F = something_else``): the miner keeps the import's
  meaning. Only one kind of assignment is followed: a module-level ``name = <alias>.<attr>...``
  whose right side resolves through a framework alias (``tfkl = tf.keras.layers``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

#: Modules that are the same API under another name; qualified names are rewritten to the
#: canonical spelling so that one function is counted under one name.
#: ``tensorflow.compat.v2`` *is* the TF2 API (``tensorflow.compat.v2.cast`` is ``tensorflow.cast``);
#: ``tensorflow.compat.v1`` is a different API and keeps its prefix.
CANONICAL_PREFIXES: dict[str, str] = {"tensorflow.compat.v2": "tensorflow"}


def canonical_name(qualname: str) -> str:
    """Rewrite a qualified name whose module is listed in :data:`CANONICAL_PREFIXES`."""
    for prefix, canonical in CANONICAL_PREFIXES.items():
        if qualname == prefix or qualname.startswith(prefix + "."):
            return canonical + qualname[len(prefix) :]
    return qualname


@dataclass
class AliasTable:
    """The names a module binds by import.

    Attributes:
        framework: local name -> qualified name, for imports under one of the mining roots.
        other: local names bound by imports of anything else (``np``, ``os``, relative
            imports such as ``from ..utils import logging``), and names
            bound by imports inside functions or classes (not resolved); calls on them are
            neither framework calls nor method candidates.
    """

    framework: dict[str, str] = field(default_factory=dict)
    other: set[str] = field(default_factory=set)

    @property
    def imports_framework(self) -> bool:
        """True when the module imports at least one name under a mining root."""
        return bool(self.framework)


def _under_roots(qualname: str, roots: tuple[str, ...]) -> bool:
    top = qualname.split(".", 1)[0]
    return top in roots


def dotted_chain(node: ast.expr) -> list[str] | None:
    """``a.b.c`` -> ``["a", "b", "c"]``; ``None`` unless the chain starts at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _module_level_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements executed in the module scope: the body plus module-level if/try/with blocks."""
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, ast.If):
            out.extend(_module_level_statements(stmt.body))
            out.extend(_module_level_statements(stmt.orelse))
        elif isinstance(stmt, ast.Try | ast.TryStar):
            out.extend(_module_level_statements(stmt.body))
            for handler in stmt.handlers:
                out.extend(_module_level_statements(handler.body))
            out.extend(_module_level_statements(stmt.orelse))
            out.extend(_module_level_statements(stmt.finalbody))
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            out.extend(_module_level_statements(stmt.body))
    return out


def module_aliases(tree: ast.Module, roots: tuple[str, ...]) -> AliasTable:
    """Build the alias table of a module from its module-level imports (later imports win)."""
    table = AliasTable()

    def bind(local: str, qualname: str) -> None:
        if _under_roots(qualname, roots):
            table.framework[local] = canonical_name(qualname)
            table.other.discard(local)
        else:
            table.other.add(local)
            table.framework.pop(local, None)

    module_level = _module_level_statements(tree.body)
    for stmt in module_level:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    # import torch.nn.functional as F -> F is torch.nn.functional
                    bind(alias.asname, alias.name)
                else:
                    # import torch.nn -> binds only "torch", which is the module torch
                    top = alias.name.split(".", 1)[0]
                    bind(top, top)
        elif isinstance(stmt, ast.ImportFrom):
            if stmt.level or not stmt.module:
                # relative import: never a framework, but its names are modules or objects, not values
                table.other.update(alias.asname or alias.name for alias in stmt.names if alias.name != "*")
                continue
            for alias in stmt.names:
                if alias.name == "*":
                    continue  # star import: names unknown statically
                bind(alias.asname or alias.name, f"{stmt.module}.{alias.name}")
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Attribute | ast.Name)
        ):
            # module-level attribute alias: tfkl = tf.keras.layers
            chain = dotted_chain(stmt.value)
            if chain is not None and chain[0] in table.framework:
                table.framework[stmt.targets[0].id] = canonical_name(".".join([table.framework[chain[0]], *chain[1:]]))
    # Names bound by imports inside functions/classes are not resolved, but they are
    # modules or imported objects, not values: keep them out of the method candidates.
    seen = {id(stmt) for stmt in module_level}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in seen:
            for alias in node.names:
                local = alias.asname or alias.name.split(".", 1)[0]
                if local != "*" and local not in table.framework:
                    table.other.add(local)
    return table
