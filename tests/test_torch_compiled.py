"""Real torch.compile (Inductor, C++ on this CPU) and torch.export on a handful of cases.

The cases (tests/data/compile_cases.toml) are an eager pass, a graph break, a
compile failure, an output Inductor computes differently from eager, and a
data-dependent branch that export cannot capture. They run in-process through
the runner's ``run_case`` with the torch adapter in each mode; one slow test runs
the CLI end to end and reads the compile columns back from the store.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from portabench.cases import CaseDescriptor  # noqa: E402
from portabench.frameworks.timer import TimingConfig  # noqa: E402
from portabench.frameworks.torch_adapter import TorchAdapter  # noqa: E402
from portabench.protocol import CaseReply  # noqa: E402
from portabench.runner.session import compile_columns  # noqa: E402
from portabench.taxonomy import FailureEvidence, classify  # noqa: E402
from portabench.worker.execute import run_case  # noqa: E402

SPECS = str(Path(__file__).parent / "data" / "compile_cases.toml")
NAMES = ["compiled.pass", "compiled.graph_break", "compiled.unsupported", "compiled.mismatch", "compiled.data_dependent"]
TIMING = TimingConfig(min_repeats=2, budget_s=0.01)


def _cases(adapter: TorchAdapter, dtypes: tuple[str, ...] = ("float32", "float16")) -> dict[str, CaseDescriptor]:
    listing = adapter.list_cases(NAMES, list(dtypes), [SPECS], 1)
    return {c.function: c for c in listing.cases}


def _category(reply: CaseReply) -> str | None:
    return classify(FailureEvidence(exc_type=reply.exc_type, message=reply.message,
                                    mismatch=bool(reply.mismatch), wrong_device=bool(reply.wrong_device)))


@pytest.fixture(scope="module")
def compiled() -> tuple[TorchAdapter, dict[str, CaseDescriptor]]:
    adapter = TorchAdapter(device="cpu", mode="compile", reference="cpu")
    return adapter, _cases(adapter)


def test_compile_pass_has_compile_time_and_no_break(compiled) -> None:
    adapter, cases = compiled
    reply = run_case(adapter, cases["compiled.pass"], TIMING)
    assert reply.outcome == "passed", reply
    assert reply.check == "values"  # compared with eager on the same CPU: a same-device reference
    assert reply.compile_ns > 0 and reply.time_median_ns > 0
    info = reply.compile_info
    assert (info["graph_breaks"], info["fallback"], info["graphs"], info["recompiles"]) == (0, False, 1, 0)
    assert adapter.info()["numerics"]["compile.recompile_limit"] == 8


def test_graph_break_is_recorded_as_fallback(compiled) -> None:
    adapter, cases = compiled
    reply = run_case(adapter, cases["compiled.graph_break"], TIMING, do_timing=False)
    assert reply.outcome == "passed", reply
    info = reply.compile_info
    assert info["graph_breaks"] >= 1 and info["fallback"] is True and info["graphs"] == 2  # as Dynamo counts them
    assert any("graph_break" in r for r in info["break_reasons"]), info["break_reasons"]
    assert compile_columns(reply)["fallback"] is True  # what the store's columns get


def test_compile_failure_is_compile_failed(compiled) -> None:
    adapter, cases = compiled
    reply = run_case(adapter, cases["compiled.unsupported"], TIMING, do_timing=False)
    assert reply.outcome == "failed"
    assert "aot_autograd does not currently support double backward" in reply.message
    assert _category(reply) == "compile_failed"


def test_compiled_mismatch_stores_the_eager_error_on_the_same_device(compiled) -> None:
    adapter, cases = compiled
    reply = run_case(adapter, cases["compiled.mismatch"], TIMING, do_timing=False)
    assert reply.outcome == "failed" and reply.mismatch, reply
    assert _category(reply) == "numerical_mismatch"
    assert reply.max_abs_err > 0.01
    # eager on the same CPU is the reference itself: the compiler differs, not the device
    assert reply.eager_same_device_ok is True and reply.eager_same_device_err == 0.0
    assert compile_columns(reply)["compile_info"]["eager_same_device_ok"] is True


def test_eager_on_the_same_device_runs_on_fresh_inputs(compiled, monkeypatch) -> None:
    """An in-place op whose compiled call ran twice (as an erroneous compiler might) mismatches; eager on
    the same device must then run on fresh inputs, not on those the compiled call already modified
    (on the H200, ``torch._foreach_sub_`` in compile mode stored an eager error of 2.31 that way)."""
    adapter, _ = compiled
    case = adapter.list_cases(["torch._foreach_sub_"], ["float32"], [], 1).cases[0]

    def twice(prepared):
        prepared.call()
        return prepared.call()

    monkeypatch.setattr(adapter, "execute", twice)
    reply = run_case(adapter, case, TIMING, do_timing=False)
    assert reply.outcome == "failed" and reply.mismatch, reply
    assert reply.eager_same_device_ok is True and reply.eager_same_device_err == 0.0


def test_fullgraph_turns_a_graph_break_into_a_failure(monkeypatch) -> None:
    monkeypatch.setenv("PORTABENCH_TORCH_FULLGRAPH", "1")
    adapter = TorchAdapter(device="cpu", mode="compile", reference="cpu")
    reply = run_case(adapter, _cases(adapter)["compiled.graph_break"], TIMING, do_timing=False)
    assert reply.outcome == "failed"
    assert reply.exc_type == "torch._dynamo.exc.Unsupported"
    assert _category(reply) == "compile_failed"
    assert reply.compile_info["fullgraph"] is True


def test_export_runs_the_exported_program_and_fails_on_data_dependent_branches() -> None:
    adapter = TorchAdapter(device="cpu", mode="export", reference="cpu")
    cases = _cases(adapter, ("float32",))
    passed = run_case(adapter, cases["compiled.pass"], TIMING, do_timing=False)
    assert passed.outcome == "passed" and passed.compile_ns > 0, passed
    assert passed.compile_info["mode"] == "export" and passed.compile_info["fallback"] is False
    failed = run_case(adapter, cases["compiled.data_dependent"], TIMING, do_timing=False)
    assert failed.outcome == "failed" and _category(failed) == "compile_failed", failed
    assert "data-dependent" in failed.message


def test_export_lists_no_optimizer_cases() -> None:
    listing = TorchAdapter(device="cpu", mode="export", reference="cpu").list_cases(["torch.optim.SGD"], ["float32"], [], 1)
    assert listing.cases == [] and listing.no_cases == ["torch.optim.SGD"]


@pytest.mark.slow
def test_cli_compile_run_stores_compile_columns(tmp_path: Path) -> None:
    from portabench.cli import main

    store = tmp_path / "s.sqlite"
    rc = main(["run", "--framework", "torch", "--device", "cpu", "--mode", "compile", "--functions",
               "compiled.pass,compiled.graph_break", "--specs", SPECS, "--dtypes", "float32", "--no-timing",
               "--store", str(store)])
    assert rc == 0
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        (reference,) = conn.execute("SELECT reference_device FROM runs").fetchone()
        rows = dict(((f, (o, gb, fb, json.loads(ci)["graphs"])) for f, o, gb, fb, ci in conn.execute(
            "SELECT function, outcome, graph_breaks, fallback, compile_info FROM results")))
    assert reference == "cpu"  # compile on the CPU is compared with eager on the CPU
    assert rows["compiled.pass"] == ("passed", 0, 0, 1)
    assert rows["compiled.graph_break"][0] == "passed" and rows["compiled.graph_break"][1] >= 1
    assert rows["compiled.graph_break"][2:] == (1, 2)
