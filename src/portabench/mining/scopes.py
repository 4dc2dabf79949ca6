"""Per-scope name binding: which names of a scope are framework imports.

Python resolves a name in the innermost function scope that binds it (anywhere
in that function), then in enclosing function scopes, then in the module;
class bodies are skipped by the functions nested in them. :func:`collect_scope`
records what one scope binds — the same rules as :mod:`symtable`, computed on
the :mod:`ast` so the miner gets the binding statement (an import and what it
imports), not just the fact that a name is local:

- import bindings (``import``, ``from ... import``, a star import through the
  API listing) and alias assignments (``tfkl = tf.keras.layers``): the last one
  in source order wins, **except** that bindings in an ``except ImportError:``
  (or ``ModuleNotFoundError``, ``Exception``, bare ``except``) handler are
  fallbacks, used only when the scope has no other import of the name;
- any other binding (parameters, assignments, ``def``/``class``, ``for``/``with``
  targets, comprehension variables, ``except ... as``, ``match`` captures) makes the name a
  plain local: it shadows imports of enclosing scopes, and an import of the same
  name in the same scope wins over it (``import torch`` + ``torch = None`` keeps
  the import: rebinding is not followed);
- ``global``/``nonlocal`` names are looked up in the module/enclosing scopes;
- only statements are read here (expressions hold no imports); a walrus
  (``(F := ...)``) is bound by the walker when it reaches it, so it shadows from
  there on.

:class:`Scope.lookup` answers for one name.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from portabench.mining.imports import dotted_chain, import_bindings

#: Nodes that open a new scope.
SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
               ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

_FALLBACK_EXCEPTIONS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class Binding:
    """A name bound by an import or alias: ``how`` is import | alias | star for a dotted name under a
    framework root, ``other`` for an import of anything else (``np``, ``os.path``, relative imports)."""

    dotted: str
    how: str

    @property
    def is_framework(self) -> bool:
        return self.how != "other"


OTHER = Binding("", "other")


@dataclass
class Scope:
    """The bindings of one scope: ``imports``/``fallbacks`` map a name to its :class:`Binding`,
    ``locals`` are names bound otherwise (a plain local shadows the imports of enclosing scopes)."""

    kind: str  # module | function | class | lambda | comprehension
    parent: Scope | None = None
    imports: dict[str, Binding | None] = field(default_factory=dict)
    fallbacks: dict[str, Binding | None] = field(default_factory=dict)
    locals: set[str] = field(default_factory=set)
    defs: set[str] = field(default_factory=set)  # functions and classes defined in this scope
    stars: list[str] = field(default_factory=list)  # modules star-imported here, in order
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    #: name -> array type of its value (``torch.Tensor``) and how it is known, None when unknown or conflicting
    types: dict[str, tuple[str, str, str] | None] = field(default_factory=dict)

    def own(self, name: str) -> tuple[bool, Binding | None]:
        """(does this scope bind ``name``, its binding)."""
        if name in self.imports:
            return True, self.imports[name]
        if name in self.locals:
            return True, None
        if name in self.fallbacks:
            return True, self.fallbacks[name]
        return False, None

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(
        self, name: str, star: Callable[[str, str], str | None] | None = None
    ) -> tuple[Scope | None, Binding | None]:
        """The scope that binds ``name`` and its binding; ``(None, None)`` for builtins/unknown names.

        ``star(module, name)`` returns the dotted name a star import of ``module`` binds to
        ``name`` (through the API listing), or ``None``.
        """
        scope: Scope | None = self
        if name in self.declared_global:
            scope = self.module()
        first = True
        while scope is not None:
            if first or scope.kind != "class":
                if name not in scope.declared_nonlocal or scope is self.module():
                    bound, binding = scope.own(name)
                    if bound:
                        return scope, binding
                    if star is not None:
                        for module in reversed(scope.stars):
                            dotted = star(module, name)
                            if dotted is not None:
                                return scope, Binding(dotted, "star")
            first = False
            scope = scope.parent
        return None, None


def _is_fallback_handler(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = {t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else "" for t in types}
    return bool(names & _FALLBACK_EXCEPTIONS)


def _target_names(target: ast.expr) -> Iterator[str]:
    """Names an assignment target binds (``a``, ``a, *b``); not the names it reads (``x[torch.arange(3)]``)."""
    for node in ast.walk(target):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id


def scope_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.arg]:
    a = node.args
    return [*a.posonlyargs, *a.args, *([a.vararg] if a.vararg else []), *a.kwonlyargs, *([a.kwarg] if a.kwarg else [])]


class _Binder:
    """Binds the names the statements of one scope bind (the work of :func:`collect_scope`).

    ``fallback``: the statement lies in an ``except ImportError`` handler, so its imports are fallbacks.
    """

    def __init__(self, scope: Scope, resolve_alias: Callable[[Scope, list[str]], Binding | None],
                 is_root: Callable[[str], bool]) -> None:
        self.scope = scope
        self.resolve_alias = resolve_alias
        self.is_root = is_root

    def visit(self, stmt: ast.AST, fallback: bool) -> None:
        """Bind what ``stmt`` binds in this scope, and what the statements nested in it bind."""
        if not isinstance(stmt, ast.stmt):
            return
        handler = _STATEMENT_BINDERS.get(type(stmt))
        if handler is not None and handler(self, stmt, fallback):
            return
        # only statements bind names (a walrus in an expression is bound by the walker when it meets it)
        for field_name in ("body", "orelse", "finalbody"):
            for child in getattr(stmt, field_name, ()):
                self.visit(child, fallback)

    # Each binder below returns True when it has handled the statement's nested statements itself.

    def _definition(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, fallback: bool) -> bool:
        self.scope.locals.add(stmt.name)
        self.scope.defs.add(stmt.name)
        return True  # its body is its own scope; decorators/defaults hold no bindings of ours

    def _import(self, stmt: ast.Import | ast.ImportFrom, fallback: bool) -> bool:
        for local, dotted in import_bindings(stmt):
            if local == "*":
                if dotted is not None and self.is_root(dotted):
                    self.scope.stars.append(dotted)
                continue
            value = Binding(dotted, "import") if dotted is not None and self.is_root(dotted) else OTHER
            (self.scope.fallbacks if fallback else self.scope.imports)[local] = value
        return True

    def _global(self, stmt: ast.Global, fallback: bool) -> bool:
        self.scope.declared_global.update(stmt.names)
        return True

    def _nonlocal(self, stmt: ast.Nonlocal, fallback: bool) -> bool:
        self.scope.declared_nonlocal.update(stmt.names)
        return True

    def _try(self, stmt: ast.Try | ast.TryStar, fallback: bool) -> bool:
        for child in stmt.body + stmt.orelse + stmt.finalbody:
            self.visit(child, fallback)
        for handler in stmt.handlers:
            if handler.name:
                self.scope.locals.add(handler.name)
            for child in handler.body:
                self.visit(child, fallback or _is_fallback_handler(handler))
        return True

    def _assign(self, stmt: ast.Assign, fallback: bool) -> bool:
        target = stmt.targets[0]
        if len(stmt.targets) == 1 and isinstance(target, ast.Name):
            chain = dotted_chain(stmt.value) if isinstance(stmt.value, ast.Attribute | ast.Name) else None
            alias = self.resolve_alias(self.scope, chain) if chain else None
            if alias is not None:
                (self.scope.fallbacks if fallback else self.scope.imports)[target.id] = alias
            else:
                self.scope.locals.add(target.id)
            return True
        for t in stmt.targets:
            self.scope.locals.update(_target_names(t))
        return False

    def _annotated(self, stmt: ast.AnnAssign | ast.AugAssign, fallback: bool) -> bool:
        if isinstance(stmt.target, ast.Name):
            self.scope.locals.add(stmt.target.id)
        return False

    def _for(self, stmt: ast.For | ast.AsyncFor, fallback: bool) -> bool:
        self.scope.locals.update(_target_names(stmt.target))
        return False

    def _with(self, stmt: ast.With | ast.AsyncWith, fallback: bool) -> bool:
        for item in stmt.items:
            if item.optional_vars is not None:
                self.scope.locals.update(_target_names(item.optional_vars))
        return False

    def _match(self, stmt: ast.Match, fallback: bool) -> bool:
        for match_case in stmt.cases:
            for pattern in ast.walk(match_case.pattern):
                if isinstance(pattern, ast.MatchAs | ast.MatchStar) and pattern.name:
                    self.scope.locals.add(pattern.name)
                elif isinstance(pattern, ast.MatchMapping) and pattern.rest:
                    self.scope.locals.add(pattern.rest)
        for match_case in stmt.cases:
            for child in match_case.body:
                self.visit(child, fallback)
        return True


_STATEMENT_BINDERS: dict[type[ast.stmt], Callable[[_Binder, Any, bool], bool]] = {
    ast.FunctionDef: _Binder._definition,
    ast.AsyncFunctionDef: _Binder._definition,
    ast.ClassDef: _Binder._definition,
    ast.Import: _Binder._import,
    ast.ImportFrom: _Binder._import,
    ast.Global: _Binder._global,
    ast.Nonlocal: _Binder._nonlocal,
    ast.Try: _Binder._try,
    ast.TryStar: _Binder._try,
    ast.Assign: _Binder._assign,
    ast.AnnAssign: _Binder._annotated,
    ast.AugAssign: _Binder._annotated,
    ast.For: _Binder._for,
    ast.AsyncFor: _Binder._for,
    ast.With: _Binder._with,
    ast.AsyncWith: _Binder._with,
    ast.Match: _Binder._match,
}
"""Statement type -> its binder (other statements only bind through the statements nested in them)."""


def collect_scope(
    scope: Scope,
    node: ast.AST,
    resolve_alias: Callable[[Scope, list[str]], Binding | None],
    is_root: Callable[[str], bool],
) -> None:
    """Fill ``scope`` with what ``node`` (a module, function, class, lambda or comprehension) binds.

    ``resolve_alias(scope, chain)`` returns the binding an alias assignment ``name = a.b.c`` creates
    (or ``None`` when the right side is not a framework namespace or callable);
    ``is_root(dotted)`` tells whether an imported dotted name is under a framework root.
    """
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        scope.locals.update(a.arg for a in scope_parameters(node))
        body: list[ast.AST] = list(node.body) if isinstance(node.body, list) else []  # a lambda's body binds nothing
    elif isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        for gen in node.generators:
            scope.locals.update(_target_names(gen.target))
        return
    else:
        body = list(node.body) if isinstance(node, ast.Module | ast.ClassDef) else []

    binder = _Binder(scope, resolve_alias, is_root)
    for stmt in body:
        binder.visit(stmt, False)
    # an import in this scope wins over a plain local binding of the same name (rebinding not followed)
    scope.locals -= set(scope.imports)
