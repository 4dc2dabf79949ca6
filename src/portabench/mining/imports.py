"""Qualified names: what an import binds, and the one name a framework function is counted under.

- :func:`import_bindings` gives the local names an ``import`` statement binds and
  the dotted name each one stands for (``import torch.nn.functional as F`` ->
  ``F: torch.nn.functional``; ``import torch.nn`` binds only ``torch``);
- :class:`Naming` turns a dotted name written in the code into the framework
  function it calls, or ``None``: the framework is found from the root module
  (:data:`REEXPORT_ROOTS` adds ``flax`` for JAX and standalone ``keras`` for
  TensorFlow), re-exports are followed (``flax.linen.relu`` -> ``jax.nn.relu``,
  ``keras.layers.Dense`` -> ``tensorflow.keras.layers.Dense``), TensorFlow's
  compat prefixes are collapsed (``tensorflow.compat.v1.compat.v1.x`` ->
  ``tensorflow.compat.v1.x``, ``tensorflow.compat.v2.x`` -> ``tensorflow.x``), aliases
  are replaced by their canonical export name from the API listing, and the name is
  checked against the listing (:meth:`Naming.check`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from portabench.mining.listing import ApiListing

#: Modules that are the same API under another name (``tensorflow.compat.v2`` *is* the TF2 API).
CANONICAL_PREFIXES: dict[str, str] = {"tensorflow.compat.v2": "tensorflow"}

#: Doubled compat prefixes (``import tensorflow.compat.v1 as tf; tf.compat.v1.x``), collapsed.
_DOUBLED = (
    (".compat.v1.compat.v1.", ".compat.v1."),
    (".compat.v2.compat.v2.", ".compat.v2."),
    (".compat.v1.compat.v2.", ".compat.v2."),
    (".compat.v2.compat.v1.", ".compat.v1."),
)

#: Root modules of other distributions that re-export a framework's functions: root -> framework.
REEXPORT_ROOTS: dict[str, str] = {"flax": "jax", "keras": "tensorflow", "tf_keras": "tensorflow"}

#: ``flax.linen`` / ``flax.nnx`` names that are ``jax.nn`` functions (flax/linen/activation.py re-exports them).
FLAX_ACTIVATIONS = frozenset({
    "celu", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu",
    "log_sigmoid", "log_softmax", "logsumexp", "normalize", "one_hot", "relu", "relu6", "selu", "sigmoid",
    "silu", "soft_sign", "softmax", "softplus", "standardize", "swish", "tanh",
})
_FLAX_NAMESPACES = ("flax.linen", "flax.nnx", "flax.linen.activation", "flax.nnx.nn.activations")


def canonical_name(qualname: str) -> str:
    """Collapse doubled compat prefixes and rewrite modules listed in :data:`CANONICAL_PREFIXES`."""
    padded = qualname + "."
    changed = True
    while changed:
        changed = False
        for doubled, single in _DOUBLED:
            if doubled in padded:
                padded, changed = padded.replace(doubled, single), True
    qualname = padded[:-1]
    for prefix, canonical in CANONICAL_PREFIXES.items():
        if qualname == prefix or qualname.startswith(prefix + "."):
            return canonical + qualname[len(prefix):]
    return qualname


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


def import_bindings(stmt: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    """``(local name, dotted name)`` per name the statement binds; ``None`` for relative imports.

    A star import is returned as ``("*", module)``.
    """
    out: list[tuple[str, str | None]] = []
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                out.append((alias.asname, alias.name))
            else:
                top = alias.name.split(".", 1)[0]
                out.append((top, top))
        return out
    relative = bool(stmt.level) or not stmt.module
    for alias in stmt.names:
        if alias.name == "*":
            out.append(("*", None if relative else stmt.module))
        else:
            out.append((alias.asname or alias.name, None if relative else f"{stmt.module}.{alias.name}"))
    return out


@dataclass
class Naming:
    """Names of the frameworks being mined, with their listings (``None``: names are not checked).

    Attributes:
        frameworks: canonical framework names considered.
        roots: root module -> framework (the registry's ``mining_roots`` plus :data:`REEXPORT_ROOTS`).
        listings: framework -> its :class:`ApiListing`, or ``None``.
    """

    frameworks: tuple[str, ...]
    roots: dict[str, str]
    listings: dict[str, ApiListing | None] = field(default_factory=dict)

    @classmethod
    def for_frameworks(cls, frameworks: list[str], listings: dict[str, ApiListing | None] | None = None) -> Naming:
        from portabench.frameworks import get_framework

        entries = [get_framework(f) for f in frameworks]
        roots = {root: e.name for e in entries for root in e.mining_roots}
        names = {e.name for e in entries}
        roots.update({root: fw for root, fw in REEXPORT_ROOTS.items() if fw in names})
        return cls(tuple(e.name for e in entries), roots, dict(listings or {}))

    def framework_of(self, dotted: str) -> str | None:
        """The framework whose import roots ``dotted`` is under, if any."""
        return self.roots.get(dotted.split(".", 1)[0])

    def follow(self, dotted: str) -> tuple[str, str, bool] | None:
        """``(framework, qualified name, re-exported)`` for a dotted name under a root, else ``None``.

        Re-exports are followed; a ``flax`` name that is not a ``jax.nn`` re-export is ``None``
        (flax's own layers are not JAX functions).
        """
        fw = self.framework_of(dotted)
        if fw is None:
            return None
        root, _, rest = dotted.partition(".")
        if root in ("keras", "tf_keras"):
            return fw, canonical_name("tensorflow.keras" + (f".{rest}" if rest else "")), True
        if root == "flax":
            for ns in _FLAX_NAMESPACES:
                if dotted.startswith(ns + "."):
                    tail = dotted[len(ns) + 1:]
                    if tail.startswith("initializers."):
                        return fw, "jax.nn." + tail, True
                    if tail in FLAX_ACTIVATIONS:
                        return fw, "jax.nn." + tail, True
            return None
        name = canonical_name(dotted)
        listing = self.listings.get(fw)
        if listing is not None:
            name = listing.canonical(name)
        return fw, name, False

    def check(self, framework: str, qualname: str) -> str | None:
        """How a name called in the code stands against the listing.

        ``"listed"``: a listed callable; ``"unchecked"``: no listing to check against;
        ``"unlisted"``: under a namespace the listing does not cover (``tf.keras.*``,
        ``jax.config.*``) — kept; ``None``: certainly not a framework callable — a private or
        dunder component (``torch.__version__.split``), an attribute reached through a listed
        callable or a plain attribute (``FLAGS = tf.compat.v1.flags.FLAGS; FLAGS.x.split``),
        or a constant-like component (``FLAGS``, ``SOME_TABLE``) before the last. A method of a
        listed class whose members the listing does not walk (``tf.data.Dataset.from_tensor_slices``)
        is ``unlisted``; of a class whose members it walks (``torch.Tensor``), it must be listed.
        """
        parts = qualname.split(".")
        if any(p.startswith("_") for p in parts):
            return None
        if any(p.isupper() and len(p) > 1 for p in parts[1:-1]):
            return None
        listing = self.listings.get(framework)
        if listing is None:
            return "unchecked"
        if listing.is_callable(qualname):
            return "listed"
        if qualname in listing.kinds:  # a plain attribute (Tensor.shape)
            return None
        for i in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:i])
            if prefix in listing.kinds:
                if i == len(parts) - 1 and listing.kinds[prefix] == "class" and not listing.is_namespace(prefix):
                    return "unlisted"  # a class's static method the listing does not walk (Dataset.from_tensor_slices)
                return None  # past a listed callable or value: an attribute of an object
        return "unlisted"
