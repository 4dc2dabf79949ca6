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
    types: dict[str, tuple[str, str] | None] = field(default_factory=dict)

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

    def lookup(self, name: str, star: Callable[[str, str], str | None] | None = None) -> tuple[Scope | None, Binding | None]:
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


def collect_scope(scope: Scope, node: ast.AST, resolve_alias: Callable[[Scope, list[str]], Binding | None],
                  is_root: Callable[[str], bool]) -> None:
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
        body = list(node.body)  # Module, ClassDef

    def bind_import(local: str, dotted: str | None, fallback: bool) -> None:
        value = Binding(dotted, "import") if dotted is not None and is_root(dotted) else OTHER
        if fallback:
            scope.fallbacks[local] = value
        else:
            scope.imports[local] = value

    def visit(stmt: ast.AST, fallback: bool) -> None:
        if not isinstance(stmt, ast.stmt):
            return
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope.locals.add(stmt.name)
            scope.defs.add(stmt.name)
            return  # its body is its own scope; decorators/defaults hold no bindings of ours
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            for local, dotted in import_bindings(stmt):
                if local == "*":
                    if dotted is not None and is_root(dotted):
                        scope.stars.append(dotted)
                else:
                    bind_import(local, dotted, fallback)
            return
        if isinstance(stmt, ast.Global):
            scope.declared_global.update(stmt.names)
            return
        if isinstance(stmt, ast.Nonlocal):
            scope.declared_nonlocal.update(stmt.names)
            return
        if isinstance(stmt, ast.Try | ast.TryStar):
            for child in stmt.body + stmt.orelse + stmt.finalbody:
                visit(child, fallback)
            for handler in stmt.handlers:
                if handler.name:
                    scope.locals.add(handler.name)
                for child in handler.body:
                    visit(child, fallback or _is_fallback_handler(handler))
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            chain = dotted_chain(stmt.value) if isinstance(stmt.value, ast.Attribute | ast.Name) else None
            alias = resolve_alias(scope, chain) if chain else None
            if alias is not None:
                (scope.fallbacks if fallback else scope.imports)[stmt.targets[0].id] = alias
            else:
                scope.locals.add(stmt.targets[0].id)
            return
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                scope.locals.update(_target_names(target))
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign) and isinstance(stmt.target, ast.Name):
            scope.locals.add(stmt.target.id)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            scope.locals.update(_target_names(stmt.target))
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if item.optional_vars is not None:
                    scope.locals.update(_target_names(item.optional_vars))
        elif isinstance(stmt, ast.Match):
            for match_case in stmt.cases:
                for pattern in ast.walk(match_case.pattern):
                    if isinstance(pattern, ast.MatchAs | ast.MatchStar) and pattern.name:
                        scope.locals.add(pattern.name)
                    elif isinstance(pattern, ast.MatchMapping) and pattern.rest:
                        scope.locals.add(pattern.rest)
        # only statements bind names (a walrus in an expression is bound by the walker when it meets it)
        for field_name in ("body", "orelse", "finalbody"):
            for child in getattr(stmt, field_name, ()):
                visit(child, fallback)
        if isinstance(stmt, ast.Match):
            for match_case in stmt.cases:
                for child in match_case.body:
                    visit(child, fallback)

    for stmt in body:
        visit(stmt, False)
    # an import in this scope wins over a plain local binding of the same name (rebinding not followed)
    scope.locals -= set(scope.imports)
