"""Counting the calls of one parsed module.

:func:`count_calls` walks every :class:`ast.Call` of a module (nested functions,
classes, lambdas and comprehensions included) and sorts it into one of:

- a *framework call*: the callee is a name or attribute chain whose base name is a
  framework import alias, e.g. ``F.relu`` with ``import torch.nn.functional as F``
  counts as ``torch.nn.functional.relu``;
- a *method candidate*: the callee is ``<value>.name`` where ``<value>`` is not an
  import alias (``x.sum()``, ``model(x).view(...)``, ``a[0].item()``); it is recorded
  as ``<owner>.name`` (``Tensor.sum``) because it *may* be a method of the
  framework's array type, but the miner cannot know the value's type. Receivers
  that are obviously something else are left out: ``self``/``cls``, ``super()``,
  literals (``"".join``), names imported from other modules (``np.split``,
  ``os.path.join``) and classes/functions defined at the module's top level
  (``MyModel.from_pretrained``). Method names that only builtin containers and
  strings have (:data:`BUILTIN_ONLY_METHODS`: ``append``, ``items``, ``format``...)
  and private or dunder names (``_replace``, ``__setattr__``) are not recorded
  either. Method candidates are only recorded for modules that import
  the framework;
- anything else (builtins, local functions, calls of calls): not counted.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field

from portabench.mining.imports import AliasTable, dotted_chain, canonical_name

#: Receivers that are the object being defined, never a framework value.
_SELF_NAMES = frozenset({"self", "cls"})

#: Public methods of builtin containers and strings that are also methods of
#: ``torch.Tensor``, ``jax.Array``, ``tf.Tensor`` or ``tf.Variable`` (checked against
#: torch 2.13, jax 0.10, tensorflow 2.21): these stay method candidates.
_ARRAY_METHODS_TOO = frozenset({"add", "copy", "index", "sort", "split", "values"})

#: Method names that only builtin types have (``append``, ``items``, ``startswith``...):
#: a call of one of them is a list/dict/str operation, not a framework call.
BUILTIN_ONLY_METHODS: frozenset[str] = frozenset(
    name
    for builtin in (dict, list, str, set, frozenset, tuple, bytes)
    for name in dir(builtin)
    if not name.startswith("_")
) - _ARRAY_METHODS_TOO


@dataclass
class CallCounts:
    """Counts of one module (or a sum of modules)."""

    calls: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)


_dotted = dotted_chain  # shared with the alias resolver


def _is_excluded_receiver(node: ast.expr, aliases: AliasTable) -> bool:
    """True for receivers that are certainly not framework values."""
    chain = _dotted(node)
    if chain is not None:
        base = chain[0]
        return base in _SELF_NAMES or base in aliases.other
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super":
        return True
    return False


def count_calls(tree: ast.Module, aliases: AliasTable, method_owner: str) -> CallCounts:
    """Count the framework calls and method candidates of a module.

    Args:
        tree: the parsed module.
        aliases: its module-level import aliases (:func:`portabench.mining.imports.module_aliases`).
        method_owner: the name method candidates are recorded under (``"Tensor"`` -> ``Tensor.sum``).
    """
    counts = CallCounts()
    record_methods = aliases.imports_framework
    local_defs = {
        stmt.name for stmt in tree.body if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        chain = _dotted(func)
        if chain is not None and chain[0] in aliases.framework:
            counts.calls[canonical_name(".".join([aliases.framework[chain[0]], *chain[1:]]))] += 1
            continue
        if (
            record_methods
            and isinstance(func, ast.Attribute)
            and not func.attr.startswith("_")
            and func.attr not in BUILTIN_ONLY_METHODS
            and not (chain is not None and chain[0] in local_defs)
            and not _is_excluded_receiver(func.value, aliases)
        ):
            counts.methods[f"{method_owner}.{func.attr}"] += 1
    return counts
