"""Declarative case specs: TOML files that give cases to functions no metadata covers.

Framework-neutral and importable in the parent (for validation) and in workers.
The format (``docs/cases.md`` has the full description and an example)::

    format = 1
    framework = "torch"

    [[function]]
    name = "torch.nn.functional.gelu"    # the qualified name under test
    dtypes = ["float32", "float64"]      # optional, default ["float32"]; ["none"]: no dtype
    random = false                       # optional: outputs are random, compare properties only
    any_device = false                   # optional: outputs may legitimately live on another device
    setup = "act = torch.nn.GELU()"      # optional statements run when a case is prepared
    modes = ["eager", "compile"]         # optional: the modes its cases run in (default: every mode)
    jit = true                           # optional, JAX only: false calls it outside jax.jit in jit mode

    [[function.case]]
    name = "2d"
    inputs = { x = "randn(4, 5)" }       # input expressions (see INPUT_HELPERS)
    setup = ""                           # optional, after the function's setup
    call = "torch.nn.functional.gelu(x)" # expression; its value is the output
    modes = ["eager"]                    # optional: this case's modes (instead of its function's)

Inputs are generated with numpy from a seed derived from the case id, so every
device gets the same values; the adapter converts each to a framework array on
the device in the case dtype. ``setup`` and ``call`` run in a namespace made of
the adapter's names (e.g. ``torch``, ``nn``, ``F``, ``device``, ``dtype``) and the
inputs. Objects created in ``setup`` with random initialisation (modules) must
be created on the CPU and moved with ``.to(device)`` so devices agree.
"""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from portabench.errors import PortabenchError

SPEC_FORMAT = 1
#: the keys a spec file may use, per level; anything else is refused (a typo would otherwise be ignored).
#: ``modes`` (the modes a case runs in) must name modes of the file's framework in the registry; ``jit``
#: (call outside jax.jit in jit mode) is read by the JAX adapter only (others accept and ignore it).
TOP_KEYS = frozenset({"format", "framework", "function"})
FUNCTION_KEYS = frozenset({"name", "dtypes", "random", "any_device", "setup", "case", "jit", "modes"})
CASE_KEYS = frozenset({"name", "inputs", "call", "setup", "modes"})
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")


@dataclass(frozen=True)
class SpecCase:
    name: str
    inputs: dict[str, str]
    call: str
    setup: str = ""
    modes: tuple[str, ...] | None = None  # the modes this case runs in (None: its function's)


@dataclass(frozen=True)
class SpecFunction:
    name: str
    file: str  # "builtin:torch.toml" or a path
    dtypes: tuple[str, ...] = ("float32",)
    random: bool = False
    any_device: bool = False
    setup: str = ""
    cases: tuple[SpecCase, ...] = field(default_factory=tuple)
    modes: tuple[str, ...] | None = None  # the modes its cases run in (None: every mode)
    jit: bool = True  # JAX: False calls it outside jax.jit in jit mode (its outputs are not arrays)

    def runs_in(self, mode: str, case: SpecCase) -> bool:
        """Whether ``case`` runs in ``mode``: the case's ``modes``, else the function's, else every mode."""
        modes = case.modes if case.modes is not None else self.modes
        return modes is None or mode in modes


@dataclass
class ArrayInput:
    """A generated input array, converted by the adapter to ``dtype`` on the device."""

    values: Any  # numpy data: an ndarray (a numpy scalar for shape ())
    dtype: str


def builtin_spec_files(framework: str) -> list[str]:
    """The spec files shipped with portabench for ``framework`` (as ``builtin:NAME``)."""
    folder = resources.files("portabench.data") / "specs"
    return sorted(f"builtin:{p.name}" for p in folder.iterdir()
                  if p.name.startswith(f"{framework}") and p.name.endswith(".toml"))


def read_spec_text(ref: str) -> str:
    """The text of a spec file (``builtin:NAME`` or a path)."""
    if ref.startswith("builtin:"):
        return (resources.files("portabench.data") / "specs" / ref.removeprefix("builtin:")).read_text()
    path = Path(ref)
    if not path.is_file():
        raise PortabenchError(f"spec file {ref} does not exist")
    return path.read_text()


def load_spec_file(ref: str) -> tuple[str, list[SpecFunction]]:
    """Parse and validate one spec file; returns (framework, functions). Errors: PortabenchError naming the file."""
    try:
        data = tomllib.loads(read_spec_text(ref))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PortabenchError(f"spec file {ref} is not valid TOML: {exc}") from None
    if data.get("format") != SPEC_FORMAT:
        raise PortabenchError(f"spec file {ref}: expected 'format = {SPEC_FORMAT}'")
    _known_keys(data, TOP_KEYS, f"spec file {ref}")
    framework = data.get("framework")
    if not isinstance(framework, str):
        raise PortabenchError(f"spec file {ref}: missing 'framework = \"...\"'")
    known_modes = _framework_modes(framework)
    functions = []
    for i, fn in enumerate(_tables(data.get("function", []), f"spec file {ref}: 'function'", "[[function]]")):
        functions.append(_spec_function(ref, i, fn, known_modes))
    return framework, functions


def _spec_function(ref: str, i: int, fn: dict[str, Any], known_modes: tuple[str, ...] | None) -> SpecFunction:
    """The ``i``-th ``[[function]]`` table of spec file ``ref``, validated."""
    where = f"spec file {ref}, function #{i + 1}"
    if not isinstance(fn.get("name"), str):
        raise PortabenchError(f"{where}: missing 'name'")
    where = f"{where} ({fn['name']})"
    _known_keys(fn, FUNCTION_KEYS, where)
    _typed(fn, where, setup=str, random=bool, any_device=bool, jit=bool)
    _modes(fn, known_modes, where)
    cases = [_spec_case(ref, f"{where}, case #{j + 1}", j, case, known_modes)
             for j, case in enumerate(_tables(fn.get("case", []), f"{where}: 'case'", "[[function.case]]"))]
    if not cases:
        raise PortabenchError(f"{where}: no [[function.case]]")
    dtypes = fn.get("dtypes", ["float32"])
    if not isinstance(dtypes, list) or not dtypes or not all(isinstance(d, str) for d in dtypes):
        raise PortabenchError(f"{where}: 'dtypes' must be a non-empty list of dtype names")
    return SpecFunction(
        name=fn["name"], file=ref, dtypes=tuple(dtypes), random=bool(fn.get("random", False)),
        any_device=bool(fn.get("any_device", False)), setup=fn.get("setup", ""), cases=tuple(cases),
        modes=_mode_tuple(fn), jit=bool(fn.get("jit", True)),
    )


def _spec_case(ref: str, where: str, j: int, case: dict[str, Any], known_modes: tuple[str, ...] | None) -> SpecCase:
    """The ``j``-th ``[[function.case]]`` table of a function (``where`` names it in errors), validated."""
    _known_keys(case, CASE_KEYS, where)
    _typed(case, where, setup=str, name=(str, int))
    _modes(case, known_modes, where)
    if not isinstance(case.get("call"), str):
        raise PortabenchError(f"{where}: missing 'call'")
    inputs = case.get("inputs", {})
    if not isinstance(inputs, dict) or not all(isinstance(v, str) for v in inputs.values()):
        raise PortabenchError(f"{where}: 'inputs' must map names to expressions")
    codes = [(case["call"], "eval"), (case.get("setup", ""), "exec"), *((v, "eval") for v in inputs.values())]
    for code, mode in codes:
        try:
            compile(code, ref, mode)
        except (SyntaxError, ValueError) as exc:  # ValueError: a null byte in the code
            raise PortabenchError(f"{where}: syntax error in {code!r}: {getattr(exc, 'msg', exc)}") from None
    return SpecCase(str(case.get("name", j)), dict(inputs), case["call"], case.get("setup", ""), _mode_tuple(case))


def _known_keys(table: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise PortabenchError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                              f"(allowed: {', '.join(sorted(allowed))})")


def _tables(value: Any, where: str, header: str) -> list[dict[str, Any]]:
    """``value`` as a list of tables (an array of tables in TOML); anything else is a one-line error."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PortabenchError(f"{where} must be tables written as {header}")
    return value


def _typed(table: dict[str, Any], where: str, **types: type | tuple[type, ...]) -> None:
    for key, kind in types.items():
        if key in table and not isinstance(table[key], kind):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise PortabenchError(f"{where}: {key!r} must be a {names}, not {type(table[key]).__name__}")


def _framework_modes(framework: str) -> tuple[str, ...] | None:
    """The registry's modes of ``framework`` (None for a framework the registry does not know)."""
    from portabench.frameworks import canonical_name, get_framework

    name = canonical_name(framework)
    return get_framework(name).modes if name is not None else None


def _modes(table: dict[str, Any], known: tuple[str, ...] | None, where: str) -> None:
    """``modes``, when given: a list of strings, each a mode of the file's framework (when the registry knows it)."""
    if "modes" not in table:
        return
    value = table["modes"]
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise PortabenchError(f"{where}: 'modes' must be a list of strings")
    unknown = [m for m in value if known is not None and m not in known]
    if unknown:
        raise PortabenchError(f"{where}: unknown mode{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                              f"in 'modes' (choose from {', '.join(known or ())})")


def _mode_tuple(table: dict[str, Any]) -> tuple[str, ...] | None:
    return tuple(table["modes"]) if "modes" in table else None


def load_specs(framework: str, refs: list[str]) -> dict[str, list[SpecFunction]]:
    """Functions of ``framework`` in the given spec files, by qualified name (files of other frameworks are skipped)."""
    out: dict[str, list[SpecFunction]] = {}
    for ref in refs:
        fw, functions = load_spec_file(ref)
        if fw != framework:
            continue
        for fn in functions:
            out.setdefault(fn.name, []).append(fn)
    return out


def input_seed(case_id: str) -> int:
    return zlib.crc32(case_id.encode())


def input_helpers(rng: np.random.Generator, dtype: str) -> dict[str, Any]:
    """The functions input expressions may call; float data is cast to the case dtype."""
    case_dtype = dtype if dtype != "none" else "float32"

    def _typed(values: Any) -> ArrayInput:
        if case_dtype == "bool":
            return ArrayInput(values > 0, "bool")
        if case_dtype in FLOAT_DTYPES or case_dtype in COMPLEX_DTYPES:
            if case_dtype in COMPLEX_DTYPES:
                values = values + 1j * rng.standard_normal(values.shape)
            return ArrayInput(np.asarray(values), case_dtype)
        return ArrayInput(np.round(values * 3).astype(np.int64), case_dtype)

    return {
        "randn": lambda *shape: _typed(rng.standard_normal(shape)),
        "rand": lambda *shape: _typed(rng.random(shape)),
        "ones": lambda *shape: _typed(np.ones(shape)),
        "zeros": lambda *shape: ArrayInput(np.zeros(shape), case_dtype),
        "arange": lambda n: _typed(np.arange(n, dtype=np.float64) / 3),
        "full": lambda shape, value: _typed(np.full(shape, float(value))),
        "randint": lambda low, high, *shape: ArrayInput(rng.integers(low, high, size=shape), "int64"),
        "index": lambda values: ArrayInput(np.asarray(values, dtype=np.int64), "int64"),
        "array": lambda values, dtype=None: ArrayInput(np.asarray(values), dtype or case_dtype),
        "mask": lambda *shape: ArrayInput(rng.random(shape) > 0.5, "bool"),
        "np": np,
    }


def generate_inputs(case: SpecCase, case_id: str, dtype: str) -> dict[str, Any]:
    """Evaluate a case's input expressions with a seeded generator (same values on every device)."""
    rng = np.random.default_rng(input_seed(case_id))
    helpers = input_helpers(rng, dtype)
    return {name: eval(expr, {"__builtins__": __builtins__}, helpers) for name, expr in case.inputs.items()}
