"""Declarative spec files: validation errors name the file; inputs are deterministic and dtype-aware."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from portabench.errors import PortabenchError
from portabench.specs import builtin_spec_files, generate_inputs, load_spec_file, load_specs


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "my.toml"
    path.write_text(text)
    return str(path)


GOOD = """
format = 1
framework = "torch"
[[function]]
name = "mylib.block"
dtypes = ["float32", "bfloat16"]
[[function.case]]
name = "small"
inputs = { x = "randn(2, 3)", i = "randint(0, 3, 4)" }
call = "x.sum()"
"""


def test_modes_and_jit_are_read_by_the_loader(tmp_path: Path) -> None:
    text = GOOD.replace('name = "mylib.block"', 'name = "mylib.block"\nmodes = ["eager", "compile"]\njit = false')
    text = text.replace('call = "x.sum()"', 'call = "x.sum()"\n[[function.case]]\nname = "eager_only"\n'
                                            'call = "x"\nmodes = ["eager"]')
    (fn,) = load_spec_file(_write(tmp_path, text))[1]
    assert fn.modes == ("eager", "compile") and fn.jit is False
    small, eager_only = fn.cases
    assert small.modes is None and eager_only.modes == ("eager",)
    assert fn.runs_in("compile", small) and not fn.runs_in("export", small)  # the function's modes
    assert fn.runs_in("eager", eager_only) and not fn.runs_in("compile", eager_only)  # the case's own
    (plain,) = load_spec_file(_write(tmp_path, GOOD))[1]
    assert plain.modes is None and plain.jit is True and plain.runs_in("export", plain.cases[0])  # default: every mode


def test_good_spec_loads(tmp_path: Path) -> None:
    framework, functions = load_spec_file(_write(tmp_path, GOOD))
    assert framework == "torch" and functions[0].name == "mylib.block"
    assert functions[0].dtypes == ("float32", "bfloat16") and functions[0].cases[0].name == "small"
    assert load_specs("jax", [_write(tmp_path, GOOD)]) == {}  # other frameworks' files are skipped


@pytest.mark.parametrize("text, message", [
    ("format = 1\nframework = 'torch'\n[[function]]\nname = 'f'\n", "no \\[\\[function.case\\]\\]"),
    ("framework = 'torch'\n", "format = 1"),
    ("format = 1\n[[function]]\n", "framework"),
    ("format = 1\nframework = 'torch'\n[[function]]\nname = 'f'\n[[function.case]]\ncall = 'x +'\n", "syntax error"),
    ("format = 1\nframework = 'torch'\n[[function]]\nname = 'f'\n[[function.case]]\ninputs = 3\ncall = 'x'\n",
     "inputs"),
    ("this is = = not toml", "not valid TOML"),
    # hostile shapes (#17): unknown keys at every level, tables that are not tables, a setup that is not a string
    ("format = 1\nframework = 'torch'\nfunctions = []\n", "unknown key 'functions'"),
    (GOOD.replace('name = "small"', 'name = "small"\ncal = "x"'), "case #1: unknown key 'cal'"),
    (GOOD.replace('dtypes = [', 'dtype = "float32"\ndtypes = ['), "unknown key 'dtype'"),
    ("format = 1\nframework = 'torch'\nfunction = 'f'\n", "'function' must be tables written as \\[\\[function\\]\\]"),
    ("format = 1\nframework = 'torch'\nfunction = [1, 2]\n", "must be tables"),
    ("format = 1\nframework = 'torch'\n[[function]]\nname = 'f'\ncase = ['x']\n", "'case' must be tables"),
    ("format = 1\nframework = 'torch'\n[[function]]\nname = 'f'\ncase = 3\n", "'case' must be tables"),
    (GOOD.replace('name = "mylib.block"', 'name = "mylib.block"\nsetup = 3'), "'setup' must be a str, not int"),
    (GOOD.replace('call = "x.sum()"', 'call = "x.sum()"\nsetup = ["a"]'), "'setup' must be a str, not list"),
    (GOOD.replace('name = "mylib.block"', 'name = "mylib.block"\nrandom = "yes"'), "'random' must be a bool"),
    (GOOD.replace('name = "mylib.block"', 'name = "mylib.block"\nmodes = "eager"'), "'modes' must be a list"),
    # modes must be modes of the file's framework (the registry's), on a function or on a case
    (GOOD.replace('name = "mylib.block"', 'name = "mylib.block"\nmodes = ["eager", "jit"]'),
     "unknown mode 'jit' in 'modes' \\(choose from eager, compile, export\\)"),
    (GOOD.replace('call = "x.sum()"', 'call = "x.sum()"\nmodes = ["graph"]'), "case #1: unknown mode 'graph'"),
    (GOOD.replace('name = "mylib.block"', 'name = "mylib.block"\njit = "no"'), "'jit' must be a bool"),
    (GOOD.replace('["float32", "bfloat16"]', '[1]'), "'dtypes' must be a non-empty list of dtype names"),
    (GOOD.replace('call = "x.sum()"', 'call = "x\\u0000"'), "syntax error"),
])
def test_bad_specs_are_one_line_errors_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PortabenchError, match=message) as info:
        load_spec_file(path)
    assert path in str(info.value) and "\n" not in str(info.value)


def test_inputs_are_seeded_by_case_id_and_typed() -> None:
    _, functions = load_spec_file(builtin_spec_files("torch")[0])
    case = next(c for f in functions for c in f.cases if "x" in c.inputs)
    a = generate_inputs(case, "id-1", "float64")["x"]
    b = generate_inputs(case, "id-1", "float64")["x"]
    c = generate_inputs(case, "id-2", "float64")["x"]
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)
    assert a.dtype == "float64"
    assert generate_inputs(case, "id-1", "int64")["x"].values.dtype == np.int64
    assert generate_inputs(case, "id-1", "bool")["x"].values.dtype == np.bool_


def test_builtin_specs_are_valid() -> None:
    files = builtin_spec_files("torch")
    assert files
    for ref in files:
        framework, functions = load_spec_file(ref)
        assert framework == "torch" and functions
