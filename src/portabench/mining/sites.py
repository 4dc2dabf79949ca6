"""One file, one tree walk: its framework call sites, portability settings and device strings.

:func:`analyze_source` parses a file and walks its tree once, scope by scope
(:mod:`portabench.mining.scopes`), producing a :class:`FileAnalysis`:

- :class:`CallSite` per use of a framework callable, with its ``kind``:
  ``call`` (``F.relu(x)``, also ``getattr(torch, "relu")(x)``), ``decorator`` (a
  bare ``@jax.jit`` / ``@tf.function``; ``@torch.no_grad()`` is a call),
  ``value`` (a listed callable passed as a value: ``act_layer=nn.GELU``,
  ``jax.tree.map(jnp.array, ...)``, a parameter default) or ``method``
  (``x.transpose(...)``); and ``resolution``: how the name was found — ``import``,
  ``alias`` (``tfkl = tf.keras.layers``), ``star`` (``from torch import *`` through the
  API listing), ``getattr``, ``reexport`` (flax -> ``jax.nn``, ``keras`` ->
  ``tensorflow.keras``), ``annotation``/``inferred`` (a method on a typed receiver) or
  ``unresolved`` (a method candidate: the receiver's type is unknown);
- :class:`Setting` per portability setting (:mod:`portabench.mining.settings`);
- :class:`DeviceString` per device string literal or ``.cuda()`` call.

Positions are 1-based lines and columns (what editors and SARIF use); each list is
sorted by position.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from portabench.mining.imports import Naming, dotted_chain
from portabench.mining.methods import (
    METHOD_OWNER,
    array_owner,
    is_candidate_method,
    is_excluded_receiver,
    linked_names,
    returns_array,
)
from portabench.mining.scopes import (
    SCOPE_NODES,
    Binding,
    Scope,
    collect_scope,
    scope_parameters,
)
from portabench.mining.settings import (
    device_of_string,
    setting_of_assignment,
    setting_of_call,
)


@dataclass(frozen=True)
class CallSite:
    """One use of a framework callable.

    ``name`` is the canonical qualified name (``torch.nn.functional.relu``), or for an
    unresolved method candidate ``<owner>.<method>`` (``Tensor.view``). ``covers``: the
    function names whose test cases cover this use (the name itself for a function; the
    method and same-named functions for a typed method call). ``listed``: ``listed`` |
    ``unlisted`` | ``unchecked`` (see :meth:`Naming.check`), empty for candidates.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    framework: str
    name: str
    kind: str
    resolution: str
    listed: str = ""
    covers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["covers"] = list(self.covers)
        return out


@dataclass(frozen=True)
class Setting:
    """A portability-relevant setting: ``name`` (``jax_enable_x64``), ``value`` as written, ``why`` it matters."""

    path: str
    line: int
    column: int
    framework: str
    name: str
    value: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DeviceString:
    """A device named in the code: a string literal (``"cuda:0"``) or a ``.cuda()`` call."""

    path: str
    line: int
    column: int
    device: str
    how: str  # "string" | "method"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileAnalysis:
    """What one file holds; ``parsed`` is False when it could not be read or parsed."""

    path: str
    parsed: bool = True
    frameworks: set[str] = field(default_factory=set)  # frameworks the file imports
    sites: list[CallSite] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)
    devices: list[DeviceString] = field(default_factory=list)


def parse(text: str | bytes) -> ast.Module | None:
    """Parse a module; ``None`` for anything that does not parse (syntax errors, undecodable bytes,
    null bytes, nesting too deep). Bytes are decoded as Python does (UTF-8 or a PEP 263 declaration)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes in old code
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


class _Walker:
    """The single walk over one module (see the module docstring)."""

    def __init__(self, path: str, naming: Naming) -> None:
        self.path = path
        self.naming = naming
        self.out = FileAnalysis(path)

    # -- names ---------------------------------------------------------------------------
    def _star(self, module: str, name: str) -> str | None:
        fw = self.naming.framework_of(module)
        listing = self.naming.listings.get(fw) if fw else None
        if listing is None:
            return None
        followed = self.naming.follow(module)
        target = followed[1] if followed else module
        return f"{module}.{name}" if name in listing.star_names(target) else None

    def _is_root(self, dotted: str) -> bool:
        fw = self.naming.framework_of(dotted)
        if fw is not None:
            self.out.frameworks.add(fw)
        return fw is not None

    def _alias(self, scope: Scope, chain: list[str]) -> Binding | None:
        """An assignment ``name = a.b.c`` is an alias when ``a.b.c`` may be a framework namespace or callable.

        Not followed: values reached through a listed callable, plain attributes, private or
        constant-like names (:meth:`Naming.check`).
        """
        _, binding = scope.lookup(chain[0], self._star)
        if binding is None or not binding.is_framework:
            return None
        dotted = ".".join([binding.dotted, *chain[1:]])
        followed = self.naming.follow(dotted)
        if followed is None:  # a flax namespace (nn = flax.linen) re-exports some jax.nn functions
            in_flax = any(dotted == ns or dotted.startswith(ns + ".") for ns in ("flax.linen", "flax.nnx"))
            return Binding(dotted, "alias") if in_flax else None
        fw, name, _ = followed
        listing = self.naming.listings.get(fw)
        if self.naming.check(fw, name) is None and not (listing is not None and listing.is_namespace(name)):
            return None
        return Binding(dotted, "alias")

    def resolve(self, node: ast.expr, scope: Scope) -> tuple[str, str, str, str] | None:
        """``(framework, name, resolution, listed)`` when ``node`` names a framework callable, else None."""
        how = None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            if scope.lookup("getattr")[0] is not None:
                return None  # a local function called getattr
            chain = dotted_chain(node.args[0])
            if chain is None:
                return None
            chain, how = [*chain, node.args[1].value], "getattr"
        else:
            chain = dotted_chain(node)
            if chain is None:
                return None
        found = self.follow_chain(chain, scope)
        if found is None:
            return None
        binding, (fw, name, reexported) = found
        listed = self.naming.check(fw, name)
        if listed is None:
            return None
        return fw, name, how or ("reexport" if reexported else binding.how), listed

    def receiver_type(self, node: ast.expr, scope: Scope) -> tuple[str, str, str] | None:
        """``(framework, owner, how)`` when ``node`` is (likely) a framework array."""
        if isinstance(node, ast.Name):
            where, binding = scope.lookup(node.id)
            if where is None or binding is not None:
                return None
            return where.types.get(node.id)
        if isinstance(node, ast.Subscript) or (isinstance(node, ast.Attribute) and node.attr in _ARRAY_ATTRIBUTES):
            found = self.receiver_type(node.value, scope)
            return (found[0], found[1], "inferred") if found else None
        if isinstance(node, ast.Call):
            resolved = self.resolve(node.func, scope)
            if resolved is not None:
                fw, name, _, _ = resolved
                owner = self._owner_of_returned(fw, name)
                return (fw, owner, "inferred") if owner else None
            if isinstance(node.func, ast.Attribute):
                found = self.receiver_type(node.func.value, scope)
                if found is not None:
                    return found[0], found[1], "inferred"
        if isinstance(node, ast.BinOp):
            found = self.receiver_type(node.left, scope) or self.receiver_type(node.right, scope)
            return (found[0], found[1], "inferred") if found else None
        return None

    def _owner_of_returned(self, fw: str, name: str) -> str | None:
        listing = self.naming.listings.get(fw)
        if listing is not None and listing.kinds.get(name) == "class":
            return None
        if not returns_array(name):
            return None
        return next(iter(dict.fromkeys(_OWNERS[fw])), None)

    def follow_chain(self, chain: list[str], scope: Scope) -> tuple[Binding, tuple[str, str, bool]] | None:
        """The framework import a dotted chain starts from in ``scope`` and the ``(framework, name,
        re-exported)`` it names (re-exports followed); None when its first name is no framework import there."""
        _, binding = scope.lookup(chain[0], self._star)
        if binding is None or not binding.is_framework:
            return None
        followed = self.naming.follow(".".join([binding.dotted, *chain[1:]]))
        return None if followed is None else (binding, followed)

    def annotation_type(self, annotation: ast.expr | None, scope: Scope) -> tuple[str, str, str] | None:
        if annotation is None:
            return None
        if isinstance(annotation, ast.Subscript):  # Optional[torch.Tensor]
            annotation = annotation.slice
        if isinstance(annotation, ast.BinOp):  # torch.Tensor | None
            return self.annotation_type(annotation.left, scope) or self.annotation_type(annotation.right, scope)
        chain = dotted_chain(annotation)
        if chain is None:
            return None
        found = self.follow_chain(chain, scope)
        if found is None:
            return None
        _, followed = found
        owner = array_owner(followed[0], followed[1])
        return (followed[0], owner, "annotation") if owner else None

    # -- records ---------------------------------------------------------------------------
    def site(
        self, node: ast.expr, fw: str, name: str, kind: str, how: str, listed: str,
        covers: tuple[str, ...] | None = None,
    ) -> None:
        self.out.sites.append(
            CallSite(
                self.path,
                node.lineno,
                node.col_offset + 1,
                node.end_lineno or node.lineno,
                (node.end_col_offset or node.col_offset) + 1,
                fw,
                name,
                kind,
                how,
                listed,
                (name,) if covers is None else covers,
            )
        )

    def value_use(self, node: ast.expr, scope: Scope) -> None:
        """A listed framework callable used as a value (argument, default)."""
        if not isinstance(node, ast.Name | ast.Attribute):
            return
        resolved = self.resolve(node, scope)
        if resolved is not None and resolved[3] == "listed":
            self.site(node, resolved[0], resolved[1], "value", resolved[2], resolved[3])

    def call(self, node: ast.Call, scope: Scope) -> None:
        resolved = self.resolve(node.func, scope)
        if resolved is not None:
            fw, name, how, listed = resolved
            self.site(node, fw, name, "call", how, listed)
            found = setting_of_call(name, node)
            if found is not None:
                self.out.settings.append(Setting(self.path, node.lineno, node.col_offset + 1, fw, *found))
        elif isinstance(node.func, ast.Attribute):
            self.method(node, node.func, scope)
        if isinstance(node.func, ast.Name) and node.func.id in _TYPE_CHECKS and scope.lookup(node.func.id)[0] is None:
            return  # isinstance(x, torch.Tensor) checks a type, it does not use a callable
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            self.value_use(arg, scope)

    def method(self, node: ast.Call, func: ast.Attribute, scope: Scope) -> None:
        receiver, attr = func.value, func.attr
        if attr == "cuda" and self.out.frameworks:
            line, column = func.end_lineno or node.lineno, (func.end_col_offset or 0) - len(attr)  # at ".cuda"
            self.out.devices.append(DeviceString(self.path, line, column, ".cuda()", "method"))
        if not is_candidate_method(attr) or is_excluded_receiver(receiver):
            return
        chain = dotted_chain(receiver)
        if chain is not None:
            where, binding = scope.lookup(chain[0], self._star)
            if binding is not None:
                return  # an imported module or object (np.split, os.path.join, a framework value)
            if where is not None and chain[0] in where.defs:
                return  # a class or function defined here (Model.from_pretrained)
        elif isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name):
            where, _ = scope.lookup(receiver.func.id)
            if where is not None and receiver.func.id in where.defs:
                return  # an instance of a class defined here (Net().to(device))
        typed = self.receiver_type(receiver, scope)
        if typed is not None:
            fw, owner, how = typed
            listing = self.naming.listings.get(fw)
            names = linked_names(fw, owner, attr)
            if listing is not None:
                names = [listing.canonical(n) for n in names if listing.is_callable(n)]
            if names:
                listed = "listed" if listing is not None else "unchecked"
                self.site(node, fw, names[0], "method", how, listed, tuple(dict.fromkeys(names)))
                return
        for fw in sorted(self.out.frameworks):
            self.site(node, fw, f"{METHOD_OWNER[fw]}.{attr}", "method", "unresolved", "")

    def assign_types(self, targets: list[ast.expr], value: ast.expr | None, scope: Scope) -> None:
        for target in targets:
            if isinstance(target, ast.Name):
                found = self.receiver_type(value, scope) if value is not None else None
                previous = scope.types.get(target.id, found)
                scope.types[target.id] = found if previous == found else None
            elif isinstance(target, ast.Attribute) and value is not None:
                chain = dotted_chain(target)
                _, binding = scope.lookup(chain[0], self._star) if chain else (None, None)
                followed = (
                    self.naming.follow(".".join([binding.dotted, *chain[1:]]))
                    if chain and binding is not None and binding.is_framework
                    else None
                )
                found = setting_of_assignment(followed[1], value) if followed else None
                if followed and found:
                    self.out.settings.append(
                        Setting(self.path, target.lineno, target.col_offset + 1, followed[0], *found)
                    )

    # -- the walk ------------------------------------------------------------------------
    def new_scope(self, kind: str, node: ast.AST, parent: Scope | None) -> Scope:
        scope = Scope(kind, parent)
        collect_scope(scope, node, self._alias, self._is_root)
        return scope

    def visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: Scope) -> None:
        if not isinstance(node, ast.Lambda):
            self.decorators(node.decorator_list, scope)
            if node.returns is not None:
                self.visit(node.returns, scope)
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            self.value_use(default, scope)
            self.visit(default, scope)
        inner = self.new_scope("lambda" if isinstance(node, ast.Lambda) else "function", node, scope)
        for arg in scope_parameters(node):
            typed = self.annotation_type(arg.annotation, scope)
            if typed is not None:
                inner.types[arg.arg] = typed
            if arg.annotation is not None:
                self.visit(arg.annotation, scope)
        body = node.body if isinstance(node.body, list) else [node.body]
        for stmt in body:
            self.visit(stmt, inner)

    def decorators(self, decorators: list[ast.expr], scope: Scope) -> None:
        for dec in decorators:
            if isinstance(dec, ast.Name | ast.Attribute):
                resolved = self.resolve(dec, scope)
                if resolved is not None:
                    self.site(dec, resolved[0], resolved[1], "decorator", resolved[2], resolved[3])
            self.visit(dec, scope)

    def visit(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            self.visit_function(node, scope)
        elif isinstance(node, ast.ClassDef):
            self.visit_class(node, scope)
        elif isinstance(node, SCOPE_NODES):
            self.visit_comprehension(node, scope)
        elif isinstance(node, ast.Assign):
            self.visit(node.value, scope)
            self.assign_types(node.targets, node.value, scope)
            for target in node.targets:
                self.visit(target, scope)
        else:
            self.note(node, scope)
            for child in ast.iter_child_nodes(node):
                self.visit(child, scope)

    def visit_class(self, node: ast.ClassDef, scope: Scope) -> None:
        self.decorators(node.decorator_list, scope)
        for base in [*node.bases, *(k.value for k in node.keywords)]:
            self.visit(base, scope)
        inner = self.new_scope("class", node, scope)
        for stmt in node.body:
            self.visit(stmt, inner)

    def visit_comprehension(self, node: ast.AST, scope: Scope) -> None:
        """A comprehension: the first iterable belongs to the enclosing scope, the rest to its own."""
        generators = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter, scope)
        inner = self.new_scope("comprehension", node, scope)
        for i, gen in enumerate(generators):
            if i:
                self.visit(gen.iter, inner)
            for cond in gen.ifs:
                self.visit(cond, inner)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part), inner)

    def note(self, node: ast.AST, scope: Scope) -> None:
        """Record what a node that opens no scope says (a call, a typed name, a binding, a device string),
        before its children are walked."""
        if isinstance(node, ast.Call):
            self.call(node, scope)
        elif isinstance(node, ast.AnnAssign):
            typed = self.annotation_type(node.annotation, scope)
            if typed is not None and isinstance(node.target, ast.Name):
                scope.types[node.target.id] = typed
            elif node.value is not None:
                self.assign_types([node.target], node.value, scope)
        elif (
            isinstance(node, ast.NamedExpr)
            and isinstance(node.target, ast.Name)
            and node.target.id not in scope.imports
        ):
            scope.locals.add(node.target.id)
        elif isinstance(node, ast.Constant) and self.out.frameworks:
            device = device_of_string(node.value)
            if device is not None:
                self.out.devices.append(DeviceString(self.path, node.lineno, node.col_offset + 1, device, "string"))


#: Builtins whose arguments are types to check against, not callables used as values.
_TYPE_CHECKS = frozenset({"isinstance", "issubclass"})

#: Attributes of an array that are arrays too (``x.T.sum()``).
_ARRAY_ATTRIBUTES = frozenset({"T", "mT", "H", "mH", "real", "imag", "data", "grad"})

_OWNERS: dict[str, list[str]] = {"torch": ["torch.Tensor"], "jax": ["jax.Array"], "tensorflow": ["tensorflow.Tensor"]}


def analyze_tree(tree: ast.Module, path: str, naming: Naming) -> FileAnalysis:
    """Walk a parsed module once (see the module docstring)."""
    walker = _Walker(path, naming)
    module = walker.new_scope("module", tree, None)
    for stmt in tree.body:
        walker.visit(stmt, module)
    out = walker.out

    def position(item: CallSite | Setting | DeviceString) -> tuple[int, int]:
        return (item.line, item.column)

    out.sites.sort(key=position)
    out.settings.sort(key=position)
    out.devices.sort(key=position)
    return out


def analyze_source(text: str | bytes | None, path: str, naming: Naming) -> FileAnalysis:
    """Parse and walk one file; ``parsed=False`` when ``text`` is None, does not parse, or nests too
    deeply to walk."""
    tree = parse(text) if text is not None else None
    if tree is None:
        return FileAnalysis(path, parsed=False)
    try:
        return analyze_tree(tree, path, naming)
    except RecursionError:  # nesting deeper than the walk's recursion allows (generated code)
        return FileAnalysis(path, parsed=False)
