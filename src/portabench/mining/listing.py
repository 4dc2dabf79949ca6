"""A framework's API listing, as the miner checks names against it.

An :class:`ApiListing` is the JSON a worker gives for ``portabench api FRAMEWORK``
(qualified name and kind of every public callable) plus, for TensorFlow, the
canonical export name of each alias (``tensorflow.reduce_sum`` ->
``tensorflow.math.reduce_sum``, from TensorFlow's own ``tf_export`` names, see
:mod:`portabench.mining.export_names`). The parent process never imports a
framework: :func:`fetch_listing` asks a worker (and caches the answer per
framework version); tests load a saved listing with :meth:`ApiListing.from_json`.

What the miner asks of a listing:

- :meth:`is_callable`: is this qualified name a public callable of the framework?
- :meth:`is_namespace`: is it a module (a proper prefix of some listed name)?
- :meth:`canonical`: the one name an alias is counted under;
- :meth:`star_names`: the names ``from MODULE import *`` binds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from portabench.errors import PortabenchError
from portabench.frameworks import get_framework

LISTING_FORMAT = "portabench-api-listing/1"


@dataclass
class ApiListing:
    """Public callables of one framework version.

    Attributes:
        framework: canonical framework name.
        version: the framework's version the listing was taken from.
        kinds: qualified name -> kind (``function``, ``class``, ``method``, ``attribute``...).
        aliases: alias -> canonical qualified name (TensorFlow's export names; empty for others).
        with_cases: names that have at least one case source (``coverage`` op); empty if unknown.
    """

    framework: str
    version: str
    kinds: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    with_cases: frozenset[str] = frozenset()

    @cached_property
    def _namespaces(self) -> frozenset[str]:
        out: set[str] = set()
        for name in self.kinds:
            parts = name.split(".")
            for i in range(1, len(parts)):
                out.add(".".join(parts[:i]))
        return frozenset(out)

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name in self.kinds:
            module, _, leaf = name.rpartition(".")
            out.setdefault(module, []).append(leaf)
        return out

    def is_callable(self, qualname: str) -> bool:
        """True for a listed callable other than a plain attribute."""
        kind = self.kinds.get(qualname)
        return kind is not None and kind != "attribute"

    def is_namespace(self, qualname: str) -> bool:
        """True when ``qualname`` is a proper prefix of a listed name (a module or a class with members)."""
        return qualname in self._namespaces

    def canonical(self, qualname: str) -> str:
        """The name a call of ``qualname`` is counted under (itself unless it is a known alias)."""
        return self.aliases.get(qualname, qualname)

    def star_names(self, module: str) -> list[str]:
        """Public names listed directly under ``module`` (what ``from module import *`` binds among callables)."""
        return [leaf for leaf in self._children.get(module, []) if not leaf.startswith("_")]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": LISTING_FORMAT, "framework": self.framework, "version": self.version,
            "functions": [{"qualname": q, "kind": k} for q, k in sorted(self.kinds.items())],
            "aliases": dict(sorted(self.aliases.items())), "with_cases": sorted(self.with_cases),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], origin: str = "API listing") -> ApiListing:
        """Read :meth:`to_json` output or the output of ``portabench api`` (no aliases, no cases)."""
        try:
            kinds = {str(f["qualname"]): str(f.get("kind", "function")) for f in data["functions"]}
            return cls(
                framework=get_framework(str(data["framework"])).name, version=str(data.get("version", "")),
                kinds=kinds, aliases={str(k): str(v) for k, v in data.get("aliases", {}).items()},
                with_cases=frozenset(str(n) for n in data.get("with_cases", [])),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise PortabenchError(f"{origin}: not an API listing ({exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> ApiListing:
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")), str(path))
        except (OSError, ValueError) as exc:
            raise PortabenchError(f"cannot read API listing {path}: {exc}") from None


def cache_dir() -> Path:
    """Where fetched listings are kept: ``$PORTABENCH_CACHE`` or ``~/.cache/portabench``, then ``listings/``."""
    root = os.environ.get("PORTABENCH_CACHE") or str(Path.home() / ".cache" / "portabench")
    return Path(root) / "listings"


def _tensorflow_aliases(names: list[str], timeout: float) -> dict[str, str]:
    """Ask a child process (which imports TensorFlow) for the canonical export name of each alias."""
    env = {**os.environ, **get_framework("tensorflow").worker_env}  # the registry's TensorFlow log level
    proc = subprocess.run(
        [sys.executable, "-m", "portabench.mining.export_names"], input=json.dumps(names), capture_output=True,
        text=True, timeout=timeout, env=env, check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [""])[-1]
        raise PortabenchError(f"reading TensorFlow's export names failed: {tail}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def installed_version(import_name: str) -> str | None:
    """The installed version of a framework from its distribution metadata (no import), if found."""
    from importlib import metadata

    for dist in metadata.packages_distributions().get(import_name, []):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def fetch_listing(framework: str, *, use_cache: bool = True, timeout: float = 600.0) -> ApiListing:
    """The listing of the installed ``framework``, from a worker (cached per framework version:
    the version is read from the distribution's metadata, so a cached listing starts no worker).

    Raises :class:`PortabenchError` when the framework is not installed or its worker fails.
    """
    from portabench.protocol import ApiRequest, CoverageRequest, HelloRequest
    from portabench.runner.session import (
        query_worker,  # parent-side runner: starts a worker process
    )

    entry = get_framework(framework)
    entry.require_installed()
    version = installed_version(entry.import_name) or (
        query_worker(entry.name, "cpu", HelloRequest(), timeout).framework_version
    )
    path = cache_dir() / f"{entry.name}-{version}.json"
    if use_cache and path.is_file():
        try:
            return ApiListing.load(path)
        except PortabenchError:
            pass  # a damaged cache entry is fetched again
    coverage = query_worker(entry.name, "cpu", CoverageRequest(specs=[]), timeout)
    functions = query_worker(entry.name, "cpu", ApiRequest(), timeout).functions
    kinds = {f["qualname"]: f["kind"] for f in functions}
    aliases = _tensorflow_aliases(sorted(kinds), timeout) if entry.name == "tensorflow" else {}
    listing = ApiListing(entry.name, version, kinds, aliases, frozenset(coverage.with_cases))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(listing.to_json()), encoding="utf-8")
    except OSError:
        pass  # no writable cache: fetched again next time
    return listing
