"""portabench.selection's name checks and portabench.cases.dtype_list (no framework needed)."""

from __future__ import annotations

import pytest

from portabench.cases import DEFAULT_DTYPES, dtype_list
from portabench.errors import PortabenchError
from portabench.frameworks import get_framework
from portabench.runner.install_hint import install_hint
from portabench.selection import no_cases_note, unknown_names_error

KNOWN = ["torch.add", "torch.addmm", "torch.nn.Linear", "torch.nn.functional.relu", "torch.sum"]


def test_unknown_names_get_the_closest_real_ones() -> None:
    error = unknown_names_error("torch", ["torch.ad", "torch.nn.Lineer", "zzz"], KNOWN)
    assert str(error) == ("unknown torch functions: 'torch.ad' (did you mean torch.add, torch.addmm, torch.sum?); "
                          "'torch.nn.Lineer' (did you mean torch.nn.Linear?); 'zzz' (no similar name)")


def test_no_cases_note_names_them() -> None:
    assert no_cases_note(["torch.a", "torch.b"], ["float32"]) == \
        "no cases for torch.a, torch.b in dtypes float32 (add cases with --specs, see docs/cases.md)"
    assert "and 2 more" in no_cases_note([f"f{i}" for i in range(12)])


def test_dtype_list() -> None:
    assert dtype_list(None) == list(DEFAULT_DTYPES)
    assert dtype_list("float32, int64,float32") == ["float32", "int64"]
    with pytest.raises(PortabenchError, match=r"unknown dtype 'fp32'"):
        dtype_list("float32,fp32")
    with pytest.raises(PortabenchError, match=r"did you mean bfloat16"):
        dtype_list("bfloat61")


def test_install_hint_for_missing_modules() -> None:
    torch = get_framework("torch")
    assert install_hint(torch, "No module named 'expecttest'") == \
        " (fix: pip install 'portabench[torch]', or just pip install expecttest)"
    assert install_hint(get_framework("jax"), "No module named 'jax.numpy'") == " (fix: pip install 'portabench[jax]')"
    assert install_hint(torch, "some other error") == ""
