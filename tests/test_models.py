"""Whole models, parent side (portabench.models, analysis/models.py, report/models.py) and end to end.

The end-to-end test runs the fault-injecting models of tests/data/model_faults.py
through real workers: a layer that segfaults and one that hangs must kill only
their worker, and the run must go on to the models after them.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from conftest import DATA, run_cli
from portabench.analysis.models import crash_frame, model_tables
from portabench.errors import PortabenchError
from portabench.models.details import MODEL_DETAILS_PREFIX, encode_details, human_message, parse_details
from portabench.models.names import is_model_case, is_model_name
from portabench.models.selection import PRESET_SIZE, model_manifest, parse_models, stratified_sample


def _catalog() -> list[dict[str, str]]:
    entries = []
    for source, n_families, per_family in (("timm", 40, 20), ("tv", 12, 5), ("hf", 200, 1)):
        for f in range(n_families):
            for i in range(per_family):
                size = ("small", "medium", "large")[(f + i) % 3] if source != "hf" else "small"
                entries.append({"name": f"{source}:fam{f}_{i}", "family": f"{source}:fam{f}", "size": size})
    return entries


def test_model_names() -> None:
    assert is_model_name("timm:resnet50") and is_model_name("py:pkg.mod:factory") and is_model_name("hf:gpt2")
    assert not is_model_name("torch.add") and not is_model_name("hf:") and not is_model_name("other:x")
    assert is_model_case("model:train@8") and not is_model_case("opinfo:add")
    assert parse_models(" timm:resnet50, hf:gpt2,timm:resnet50") == ["timm:resnet50", "hf:gpt2"]
    with pytest.raises(PortabenchError, match="not a model name: 'resnet50'"):
        parse_models("resnet50")


def test_stratified_sample_is_seeded_and_covers_sources_sizes_and_families() -> None:
    catalog = _catalog()
    first, again, other = (stratified_sample(catalog, PRESET_SIZE, s) for s in (0, 0, 1))
    assert first == again and first != other
    names = [e["name"] for e in first]
    assert len(names) == len(set(names)) == PRESET_SIZE
    strata = {(e["name"].split(":")[0], e["size"]) for e in first}
    assert strata == {(e["name"].split(":")[0], e["size"]) for e in catalog}  # every (source, size) stratum
    timm_small = [e for e in first if e["name"].startswith("timm:") and e["size"] == "small"]
    assert len({e["family"] for e in timm_small}) == len(timm_small)  # no family twice before all have one
    assert len(stratified_sample(catalog[:10], PRESET_SIZE, 0)) == 10


def test_model_manifests(monkeypatch) -> None:
    listed = model_manifest("torch", None, "hf:bert,tv:resnet18", 0)
    assert listed.names() == ["hf:bert", "tv:resnet18"] and listed.name == "models-listed"
    preset = model_manifest("torch", "models", None, 3, catalog=_catalog())
    assert len(preset.names()) == PRESET_SIZE and preset.seed == 3 and preset.params["catalog_size"] == len(_catalog())
    assert len(model_manifest("torch", "models-all", None, 0, catalog=_catalog()).names()) == len(_catalog())
    with pytest.raises(PortabenchError, match="no model source"):
        model_manifest("torch", "models", None, 0, catalog=[])


def test_details_round_trip() -> None:
    details = {"step": "train", "batch": 8, "err_ratio": float("inf"), "layer": {"path": "a.b", "type": "Linear"}}
    message = "loss differs\n" + MODEL_DETAILS_PREFIX + encode_details(details)
    assert parse_details(message) == {**details, "err_ratio": "inf"}
    assert human_message(message) == "loss differs"
    assert parse_details("plain message") == {} and parse_details(None) == {}


def test_crash_frame_is_the_innermost_forward_outside_torch() -> None:
    tail = ('Fatal Python error: Segmentation fault\n'
            '  File "/x/ctypes/__init__.py", line 519 in string_at\n'
            '  File "/w/tests/data/model_faults.py", line 35 in forward\n'
            '  File "/s/torch/nn/modules/module.py", line 1789 in _call_impl\n'
            '  File "/s/torch/nn/modules/container.py", line 253 in forward\n')
    assert crash_frame(tail) == "model_faults.py:35"
    assert crash_frame(None) is None and crash_frame("no frames") is None


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = pd.DataFrame([
        {"run_id": "r0", "framework": "torch", "framework_version": "2", "device": "cpu", "mode": "eager",
         "origin": "portabench", "reference_device": None},
        {"run_id": "r1", "framework": "torch", "framework_version": "2", "device": "cuda", "mode": "eager",
         "origin": "portabench", "reference_device": "cpu"},
    ])
    layer = {"path": "blocks.3.attn", "type": "Attention", "functions": ["torch.matmul"], "how": "re-run alone"}
    rows = []
    for model, outcome, category, details, t in (
        ("timm:a", "passed", None, {"err_ratio": 0.1}, 2.0),
        ("timm:b", "failed", "numerical_mismatch", {"err_ratio": 5, "layer": layer, "f64": {"device_err": 1e-2, "reference_err": 1e-7, "further": "device"}}, None),
        ("timm:c", "reference_failed", "other", {}, None),
    ):
        for step in ("forward", "train"):
            for run_id, device in (("r0", "cpu"), ("r1", "cuda")):
                ref_run = run_id == "r0"
                rows.append({"run_id": run_id, "framework": "torch", "framework_version": "2", "device": device,
                             "mode": "eager", "origin": "portabench", "function": model, "source": f"model:{step}@8",
                             "outcome": "passed" if ref_run and outcome != "reference_failed" else outcome,
                             "category": None if ref_run else category,
                             "message": MODEL_DETAILS_PREFIX + encode_details({} if ref_run else details),
                             "time_median_ns": (10.0 if ref_run else t), "stderr_tail": None})
    return pd.DataFrame(rows), runs


def test_model_tables_shares_layers_and_slowdowns() -> None:
    results, runs = _frames()
    tables = model_tables(results, runs)
    cuda = tables.summary[tables.summary["device"] == "cuda"].iloc[0]
    assert (cuda.n_models, cuda.not_built, cuda.running_n, cuda.matching_n) == (2, 1, 2, 1)  # a mismatch still ran
    cpu = tables.summary[tables.summary["device"] == "cpu"].iloc[0]
    assert cpu.running_n == 2 and pd.isna(cpu.matching_share)  # the reference run compares nothing
    assert tables.layers.iloc[0][["layer_type", "cases", "models"]].tolist() == ["Attention", 2, 1]
    slow = tables.slowdowns
    assert set(slow["step"]) == {"forward", "train"} and slow["median"].tolist() == [0.2, 0.2]  # timm:a, 2 ns vs 10 ns
    assert tables.ratios[["model", "ratio", "baseline_ns", "target_ns"]].values.tolist() == [["timm:a", 0.2, 10.0, 2.0]] * 2
    assert set(tables.categories["category"]) == {"numerical_mismatch"}


@pytest.mark.slow
def test_faulty_models_are_isolated_localised_and_reported(tmp_path: Path) -> None:
    store = tmp_path / "m.sqlite"
    env = {"PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"), str(DATA), os.environ.get("PYTHONPATH", "")])}
    models = ",".join(f"py:model_faults:{n}" for n in ("segfault", "hang", "differs", "healthy"))
    proc = run_cli("run", "--framework", "torch", "--device", "cpu", "--reference", "cpu:0", "--models", models,
                   "--timeout", "4", "--repeats", "2", "--time-budget", "0.01", "--store", str(store), env=env, timeout=400)
    assert proc.returncode == 0, proc.stderr
    assert "complete" in proc.stderr + proc.stdout
    from portabench.store import Store

    with Store(store) as s:
        rows = {(r.function.split(":")[-1], r.source): r for r in s.results_frame().itertuples()}
    assert len(rows) == 16
    seg = rows[("segfault", "model:forward@8")]
    assert seg.category == "crash" and seg.exit_status == -signal.SIGSEGV and "model_faults.py" in seg.stderr_tail
    assert rows[("hang", "model:train@8")].category == "timeout"
    differs = rows[("differs", "model:forward@8")]
    assert differs.category == "numerical_mismatch" and parse_details(differs.message)["layer"]["path"] == "block.1"
    assert all(rows[("healthy", s)].outcome == "passed" for s in ("model:forward@8", "model:train@32"))  # after the faults
    report = run_cli("report", "--store", str(store), "--html", str(tmp_path / "html"), env=env, timeout=200)
    assert report.returncode == 0, report.stderr
    assert "## Models" in report.stdout and "block.1 (Faulty)" in report.stdout
    assert "(crashed in model_faults.py:" in report.stdout
    assert 'id="model-search"' in (tmp_path / "html" / "index.html").read_text()
    bad = run_cli("run", "--framework", "torch", "--device", "cpu", "--models", "resnet50", "--store", str(store))
    assert bad.returncode == 2 and bad.stderr.startswith("portabench: error: not a model name")


def test_report_has_a_models_section_and_keeps_models_out_of_the_function_tables(tmp_path: Path) -> None:
    from portabench.analysis import build_tables
    from portabench.report import render_markdown
    from portabench.report.html import render_html
    from portabench.store import CaseResult, RunMeta, Store

    results, _ = _frames()
    with Store(tmp_path / "s.sqlite") as store:
        for run_id, device, ref in (("r0", "cpu", None), ("r1", "cuda", "cpu")):
            store.begin_run(RunMeta(run_id=run_id, framework="torch", framework_version="2", device=device,
                                    device_kind=device, device_name=device, reference_device=ref, started_at=run_id))
            for r in results[results["run_id"] == run_id].itertuples():
                store.record_result(run_id, CaseResult(
                    case_id=f"{r.function}|{r.source}|float32|0", function=r.function, source=r.source, dtype="float32",
                    sample=0, outcome=r.outcome, category=r.category, message=r.message,
                    time_median_ns=None if pd.isna(r.time_median_ns) else r.time_median_ns))
            store.finish_run(run_id, "complete", "end")
        tables = build_tables(store)
    text = render_markdown(tables)
    assert "## Models" in text and "### Largest model slowdowns" in text
    assert "blocks.3.attn (Attention): torch.matmul" in text
    assert tables.per_function.empty  # model cases are not functions
    assert 'id="model-table"' in render_html(tables) and "timm:b" in render_html(tables)
