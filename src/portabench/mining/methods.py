"""Method calls: which receivers may be framework arrays, and what a typed method call links to.

``x.transpose(0, 1)`` is a call of ``torch.Tensor.transpose`` only if ``x`` is
a tensor. The miner knows that when ``x`` is annotated with an array type
(``x: torch.Tensor``, ``jax.Array``, ``tf.Tensor``; resolution ``annotation``) and
guesses it when ``x`` was assigned the result of a framework function or of a
method of a typed value (``x = torch.zeros(3)``; ``inferred``). A typed method
call is linked to the function cases that cover it (:func:`linked_names`:
``torch.Tensor.transpose`` and ``torch.transpose``). Other method calls are
*candidates* (``Tensor.transpose``, resolution ``unresolved``), except for
receivers that are certainly not arrays (:func:`is_excluded_receiver`) and
method names only builtin containers and strings have (:data:`BUILTIN_ONLY_METHODS`).
"""

from __future__ import annotations

import ast

from portabench.frameworks import FRAMEWORKS

#: The type method candidates are recorded under, per framework (``Tensor.sum``): the registry's ``method_owner``.
METHOD_OWNER: dict[str, str] = {name: entry.method_owner for name, entry in FRAMEWORKS.items()}

#: Qualified names of array types, per framework -> the owner their methods are named under (registry facts).
ARRAY_TYPES: dict[str, dict[str, str]] = {
    name: {t: f"{entry.import_name}.{entry.method_owner}" for t in entry.array_types} for name, entry in FRAMEWORKS.items()
}

#: Namespaces whose function of the same name a method call is also covered by (``x.sum()`` ~ ``torch.sum``).
METHOD_FUNCTIONS: dict[str, tuple[str, ...]] = {name: entry.method_functions for name, entry in FRAMEWORKS.items()}

#: Public methods of builtin containers and strings that arrays also have: these stay candidates.
_ARRAY_METHODS_TOO = frozenset({"add", "copy", "index", "sort", "split", "values"})

#: Method names only builtin types have (``append``, ``items``...): not array methods.
BUILTIN_ONLY_METHODS: frozenset[str] = frozenset(
    name
    for builtin in (dict, list, str, set, frozenset, tuple, bytes)
    for name in dir(builtin)
    if not name.startswith("_")
) - _ARRAY_METHODS_TOO

_SELF_NAMES = frozenset({"self", "cls"})


def is_candidate_method(name: str) -> bool:
    """True for a method name that may be an array method (public, not builtin-only)."""
    return not name.startswith("_") and name not in BUILTIN_ONLY_METHODS


def is_excluded_receiver(node: ast.expr) -> bool:
    """Receivers that are certainly not arrays: ``self``/``cls``, literals, ``super()``."""
    base = node
    while isinstance(base, ast.Attribute):
        base = base.value
    if isinstance(base, ast.Name) and base.id in _SELF_NAMES:
        return True
    if isinstance(node, ast.Constant | ast.JoinedStr | ast.List | ast.Dict | ast.Set | ast.Tuple):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def array_owner(framework: str, qualname: str) -> str | None:
    """The owner (``torch.Tensor``) when ``qualname`` names an array type of ``framework``."""
    return ARRAY_TYPES.get(framework, {}).get(qualname)


def returns_array(qualname: str) -> bool:
    """Guess: a framework *function* (lower-case last name, not a class) returns an array."""
    leaf = qualname.rsplit(".", 1)[-1]
    return leaf[:1].islower() and not qualname.startswith(("jax.tree", "jax.jit", "jax.vmap", "jax.grad"))


def linked_names(framework: str, owner: str, method: str) -> list[str]:
    """Names whose cases cover ``<owner>.<method>``: the method itself and same-named functions."""
    return [f"{owner}.{method}"] + [f"{ns}.{method}" for ns in METHOD_FUNCTIONS.get(framework, ())]
