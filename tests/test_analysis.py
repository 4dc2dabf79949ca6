"""Analysis on synthetic stores: intervals, classification, pooling, slowdowns, tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from portabench.analysis import StudyTables, build_tables
from portabench.analysis.intervals import geometric_mean, median_ci, wilson_interval
from portabench.analysis.portability import classify
from portabench.store import Store
from report_fixtures import add_run, build_demo_store, case


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        yield s


def _row(df, **where):
    sel = df
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (where, sel)
    return sel.iloc[0]


# -- intervals -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "k,n,lo,hi",
    [(5, 10, 0.236587, 0.763413), (0, 10, 0.0, 0.277533), (10, 10, 0.722467, 1.0), (1, 20, 0.008880, 0.236131)],
)
def test_wilson_known_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-5)


def test_wilson_matches_formula_and_edges():
    z = 1.959963984540054
    for k, n in [(3, 7), (13, 23), (40, 144)]:
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_median_ci_order_statistics():
    assert all(math.isnan(x) for x in median_ci([1, 2, 3, 4, 5]))  # too few for 95%
    assert median_ci(range(1, 7)) == (1.0, 6.0)
    assert median_ci(range(1, 21)) == (6.0, 15.0)  # textbook: 6th and 15th of 20
    assert all(math.isnan(x) for x in median_ci([]))


def test_geometric_mean():
    assert geometric_mean([2, 0.25]) == pytest.approx(math.sqrt(0.5))
    assert math.isnan(geometric_mean([]))
    assert math.isnan(geometric_mean([1.0, 0.0]))


# -- classification --------------------------------------------------------------------------------
def test_classify():
    assert classify(3, 0) == "portable"
    assert classify(2, 1) == "partial"
    assert classify(0, 4) == "complete"
    assert classify(0, 0, 2) == "reference_broken"
    assert classify(1, 0, 5) == "portable"
    assert classify(0, 1, 5) == "complete"


def test_function_classification_in_store(store):
    results = [
        case("f.portable", sample=0), case("f.portable", sample=1),
        case("f.partial", sample=0), case("f.partial", "failed", sample=1),
        case("f.complete", "failed", sample=0), case("f.complete", "failed", sample=1),
        case("f.refbroken", "reference_failed", sample=0), case("f.refbroken", "reference_failed", sample=1),
        case("f.ref_and_pass", sample=0), case("f.ref_and_pass", "reference_failed", sample=1),
        case("f.ref_and_fail", "failed", sample=0), case("f.ref_and_fail", "reference_failed", sample=1),
    ]
    functions = [{"function": f, "status": "tested"} for f in sorted({r.function for r in results})]
    functions += [{"function": "f.nocases", "status": "no_cases"}, {"function": "f.missing", "status": "missing"}]
    add_run(store, [case(r.function) for r in results], device="cpu")
    add_run(store, results, device="cuda:0", functions=functions)
    t = build_tables(store)
    pf = t.per_function[t.per_function["device"] == "cuda"].set_index("function")["status"].to_dict()
    assert pf == {
        "f.portable": "portable", "f.partial": "partial", "f.complete": "complete", "f.refbroken": "reference_broken",
        "f.ref_and_pass": "portable", "f.ref_and_fail": "complete", "f.nocases": "no_cases", "f.missing": "missing",
    }
    row = _row(t.portability, device="cuda")
    assert row["n_functions"] == 5
    assert (row["portable_n"], row["partial_n"], row["complete_n"], row["failing_n"]) == (2, 1, 2, 3)
    assert row["portable_share"] == pytest.approx(0.4)
    assert (row["portable_lo"], row["portable_hi"]) == pytest.approx(wilson_interval(2, 5))
    assert (row["reference_broken"], row["no_cases"], row["missing"]) == (1, 1, 1)
    assert row["role"] == "target" and row["reference_device"] == "cpu"
    assert any("cases are broken (they fail on the reference device" in n for n in t.notes)


# -- columns: pooling and versions -----------------------------------------------------------------
def test_pooling_newest_run_wins(store):
    add_run(store, [case("f.a", "failed", message="old"), case("f.b")], run_id="old", device="cuda:0",
            started_at="2025-01-01T00:00:00", status="interrupted")
    add_run(store, [case("f.a"), case("f.c")], run_id="new", device="cuda:1", started_at="2025-01-02T00:00:00")
    t = build_tables(store)
    assert len(t.portability) == 1
    row = t.portability.iloc[0]
    assert row["device"] == "cuda" and row["n_runs"] == 2 and row["runs"] == "old, new"
    assert row["n_cases"] == 3 and row["cases_failed"] == 0 and row["portable_n"] == 3
    assert any("pools 2 runs" in n for n in t.notes)
    assert any("1 case(s) were recorded by several of them, 1 with different outcomes" in n for n in t.notes)
    assert row["cases_disagreeing"] == 1
    assert any("run old" in n and "interrupted" in n for n in t.notes)
    assert len(t.environment) == 2  # environment is per run, not pooled


def test_different_hardware_is_two_columns_unless_pooled_explicitly(store):
    add_run(store, [case("f.a"), case("f.b", "failed")], device="cuda:0", device_name="NVIDIA A100")
    add_run(store, [case("f.a"), case("f.b")], device="cuda:0", device_name="NVIDIA H100")
    t = build_tables(store)
    cuda = t.portability[t.portability["device"] == "cuda"]
    assert sorted(cuda["variant"]) == ["NVIDIA A100", "NVIDIA H100"]
    assert sorted(cuda["failing_n"]) == [0, 1]
    assert any("2 configurations of torch 2.11 cuda eager are kept apart" in n for n in t.notes)
    pooled = build_tables(store, pool_hardware=True)
    row = _row(pooled.portability, device="cuda")
    assert row["n_runs"] == 2 and row["variant"] == "" and row["cases_disagreeing"] == 1


def test_version_mismatch_is_never_pooled(store):
    add_run(store, [case("f.a")], version="2.11")
    add_run(store, [case("f.a", "failed")], version="2.13")
    add_run(store, [case("f.a", "failed")], version="2.11", origin="paper")
    t = build_tables(store)
    assert len(t.portability) == 3
    assert sorted(t.portability["framework_version"]) == ["2.11", "2.11", "2.13"]
    assert any(n.startswith("torch has runs of versions 2.11 and 2.13: shown separately") for n in t.notes)
    paper = _row(t.portability, origin="paper")
    assert paper["column"].endswith("[paper]") and paper["complete_n"] == 1


def test_columns_group_by_mode(store):
    add_run(store, [case("f.a")], mode="eager")
    add_run(store, [case("f.a", "failed")], mode="compile")
    t = build_tables(store)
    assert sorted(t.portability["mode"]) == ["compile", "eager"]


# -- slowdowns -------------------------------------------------------------------------------------
def _timed_pair(store, target_times: dict[str, list[float]], base_times: dict[str, list[float]], target="cuda:0", **kw):
    base, tgt = [], []
    for fn, times in base_times.items():
        base += [case(fn, sample=i, time_ns=t) for i, t in enumerate(times)]
    for fn, times in target_times.items():
        tgt += [case(fn, sample=i, time_ns=t) if t is not None else case(fn, "failed", sample=i)
                for i, t in enumerate(times)]
    add_run(store, base, device="cpu", **kw)
    add_run(store, tgt, device=target, **kw)


def test_slowdown_geometric_mean_hand_computed(store):
    _timed_pair(
        store,
        base_times={"f.two": [100, 400], "f.one": [100], "f.fail": [100], "f.untimed": [100]},
        target_times={"f.two": [200, 100], "f.one": [300], "f.fail": [None], "f.untimed": [0]},
    )
    t = build_tables(store)
    fn = t.slowdown_functions.set_index("function")
    assert set(fn.index) == {"f.two", "f.one"}
    assert fn.loc["f.two", "ratio"] == pytest.approx(math.sqrt(2 * 0.25))
    assert fn.loc["f.two", "n_cases"] == 2
    assert fn.loc["f.one", "ratio"] == pytest.approx(3.0)
    s = t.slowdown_summary.iloc[0]
    assert (s["baseline"], s["target"], s["n_functions"], s["n_cases"]) == ("cpu", "cuda", 2, 3)
    assert s["median"] == pytest.approx((math.sqrt(0.5) + 3) / 2)
    assert s["max"] == pytest.approx(3.0)
    assert s["faster_n"] == 1 and s["faster_share"] == pytest.approx(0.5) and s["slower_share"] == pytest.approx(0.5)
    assert s["p90"] == pytest.approx(np.percentile([math.sqrt(0.5), 3.0], 90))


def test_faster_share_and_top10_ordering(store):
    fns = {f"f.{i:02d}": [100.0] for i in range(12)}
    # ratios 0.5, 1, 1.5, ... ; f.10 and f.11 tie (ratio 6.0)
    target = {f"f.{i:02d}": [100.0 * 0.5 * (i + 1) if i != 11 else 100.0 * 0.5 * 11] for i in range(12)}
    _timed_pair(store, target_times=target, base_times=fns)
    t = build_tables(store)
    s = t.slowdown_summary.iloc[0]
    assert s["faster_n"] == 1 and s["faster_share"] == pytest.approx(1 / 12)
    top = t.slowdown_top
    assert list(top["rank"]) == list(range(1, 11))
    assert list(top["function"][:3]) == ["f.10", "f.11", "f.09"]  # tie broken by name
    assert list(top["ratio"]) == sorted(top["ratio"], reverse=True)
    assert top["ratio"].min() == pytest.approx(1.5)


def test_baseline_and_target_selection(store):
    _timed_pair(store, base_times={"f.a": [100]}, target_times={"f.a": [400]})
    t = build_tables(store, baseline="cuda", targets=["cpu"])
    assert t.slowdown_summary.iloc[0]["median"] == pytest.approx(0.25)
    t = build_tables(store, targets=["cuda:0"])  # a requested device selects its column
    assert t.slowdown_summary.iloc[0]["target"] == "cuda"
    t = build_tables(store, targets=["tpu"])
    assert t.slowdown_summary.empty
    note = next(n for n in t.notes if "no tpu run" in n)
    assert "targets not available" in note
    assert "portabench run --framework torch --device tpu" in note and "portabench merge" in note


def test_no_target_device_note(store):
    add_run(store, [case("f.a", time_ns=10.0)])
    t = build_tables(store)
    assert t.slowdown_summary.empty and t.slowdown_top.empty
    assert any("only cpu runs" in n and "portabench merge" in n for n in t.notes)


def test_missing_baseline_note(store):
    add_run(store, [case("f.a", time_ns=10.0)], device="cuda:0")
    t = build_tables(store)
    assert any("no cpu (baseline) run" in n for n in t.notes)


def test_slowdowns_are_within_one_version(store):
    add_run(store, [case("f.a", time_ns=100.0)], version="1")
    add_run(store, [case("f.a", time_ns=900.0)], device="cuda:0", version="2")
    t = build_tables(store)
    assert t.slowdown_summary.empty


# -- categories, dtypes, errors, environment -------------------------------------------------------
def test_categories_main_category_and_counts(store):
    add_run(store, [case(f, sample=0) for f in "abc"])
    add_run(store, [
        case("a", "failed", sample=0, category="crash"), case("a", "failed", sample=1, category="timeout"),
        case("a", "failed", sample=2, category="timeout"),
        case("b", "failed", sample=0, category="timeout"), case("b", "failed", sample=1, category="crash"),  # tie
        case("c", "failed", sample=0, category=None),
    ], device="cuda:0")
    t = build_tables(store)
    pf = t.per_function[t.per_function["device"] == "cuda"].set_index("function")
    assert pf.loc["a", "main_category"] == "timeout"
    assert pf.loc["b", "main_category"] == "crash"  # tie: alphabetical
    assert pf.loc["c", "main_category"] == "uncategorised"
    assert set(t.categories["device"]) == {"cuda"}
    cats = t.categories.set_index("category")
    assert cats.loc["timeout", "cases"] == 3 and cats.loc["timeout", "functions"] == 1
    assert cats.loc["crash", "cases"] == 2 and cats.loc["crash", "functions"] == 1
    assert cats["functions"].sum() == 3 and cats["cases_share"].sum() == pytest.approx(1.0)


def test_dtype_matrix_claimed_vs_observed(store):
    claimed = {"f.a": {"cpu": ["float32", "float64"], "cuda": ["float32", "float16", "bfloat16"]}}
    add_run(store, [case("f.a", dtype="float32"), case("f.a", dtype="float64")], claimed=claimed)
    add_run(store, [case("f.a", dtype="float32"), case("f.a", "failed", dtype="float16"), case("f.a", dtype="int64")],
            device="cuda:0", claimed=claimed)
    t = build_tables(store)
    cpu = _row(t.dtype_matrix, device="cpu")
    assert cpu["claimed"] == ["float32", "float64"] and cpu["observed"] == ["float32", "float64"]
    assert cpu["agree"] == True  # noqa: E712
    cuda = _row(t.dtype_matrix, device="cuda")
    assert cuda["tested"] == ["float16", "float32", "int64"]
    assert cuda["observed"] == ["float32", "int64"]
    assert cuda["claimed_not_observed"] == ["float16"]  # claimed, tested, failed
    assert cuda["claimed_not_tested"] == ["bfloat16"]  # never "claimed, not observed"
    assert cuda["observed_not_claimed"] == ["int64"]
    assert cuda["agree"] == False  # noqa: E712


def test_numerical_errors_table(store):
    add_run(store, [case("f.a", sample=i) for i in range(3)])
    add_run(
        store,
        [
            case("f.a", "failed", sample=0, category="numerical_mismatch", max_abs_err=1e-2, max_rel_err=1e-3),
            case("f.a", "failed", sample=1, category="numerical_mismatch", max_abs_err=1e-1, max_rel_err=1e-2),
            case("f.a", "failed", sample=2, category="crash"),
        ],
        device="cuda:0",
    )
    t = build_tables(store)
    assert len(t.errors) == 2 and set(t.errors["category"]) == {"numerical_mismatch"}
    s = t.error_summary.iloc[0]
    assert s["n_cases"] == 2 and s["abs_max"] == pytest.approx(0.1) and s["rel_median"] == pytest.approx(5.5e-3)


def test_environment_one_row_per_run(store):
    add_run(store, [case("f.a"), case("f.b", "failed")], run_id="r1", numerics={"tf32": True})
    t = build_tables(store)
    env = t.environment.iloc[0]
    assert (env["run_id"], env["n_cases"], env["n_passed"], env["n_failed"]) == ("r1", 2, 1, 1)
    assert "tf32" in env["numerics"] and env["device_name"] == "Test CPU"


def test_empty_store(store):
    t = build_tables(store)
    assert isinstance(t, StudyTables)
    assert all(df.empty for df in t.frames().values())
    assert any("no runs" in n for n in t.notes)


def test_demo_store_builds(tmp_path):
    with Store(build_demo_store(tmp_path / "demo.sqlite")) as s:
        t = build_tables(s)
    assert len(t.portability) == 5 and len(t.slowdown_summary) == 2
    assert set(t.frames()) >= {
        "portability",
        "categories",
        "slowdown_summary",
        "slowdown_top",
        "per_function",
        "dtype_matrix",
        "errors",
        "environment",
    }


# -- issue 11: rules that keep the numbers honest --------------------------------------------------
def test_soft_placement_is_its_own_column_never_pooled_with_hard(store):
    """A hard and a soft run of one device whose outcomes differ: two columns, the soft one labelled."""
    cases_hard = [case("tf.a", "failed", category="not_implemented", time_ns=10.0), case("tf.b", time_ns=10.0)]
    cases_soft = [case("tf.a", time_ns=30.0), case("tf.b", time_ns=10.0)]
    add_run(
        store,
        [case("tf.a", time_ns=5.0), case("tf.b", time_ns=5.0)],
        framework="tensorflow",
        device="cpu",
        numerics={"soft_device_placement": False},
    )
    add_run(store, cases_hard, framework="tensorflow", device="gpu", numerics={"soft_device_placement": False})
    add_run(
        store,
        cases_soft,
        framework="tensorflow",
        device="gpu+soft",
        device_kind="gpu",
        numerics={"soft_device_placement": True},
    )  # the newer run: it would win a pooling
    t = build_tables(store)
    gpu = t.portability[t.portability["device"] == "gpu"].set_index("variant")
    assert sorted(gpu.index) == ["", "soft placement"]
    assert gpu.loc["", "failing_n"] == 1 and gpu.loc["soft placement", "failing_n"] == 0
    assert gpu.loc["soft placement", "column"] == "tensorflow 2.11 gpu eager (soft placement)"
    assert bool(gpu.loc["soft placement", "soft"]) and not bool(gpu.loc["", "soft"])
    # slowdowns: one pair per column, each labelled
    pairs = set(zip(t.slowdown_summary["baseline_column"], t.slowdown_summary["target_column"], strict=True))
    assert pairs == {
        ("tensorflow 2.11 cpu eager", "tensorflow 2.11 gpu eager"),
        ("tensorflow 2.11 cpu eager", "tensorflow 2.11 gpu eager (soft placement)"),
    }
    # the paper's marking (config.soft_placement) is read too
    from portabench.analysis.columns import is_soft

    assert is_soft({"device": "gpu", "numerics": "{}", "config": '{"soft_placement": true}'})


def test_numerics_switches_split_columns_environment_entries_do_not(store):
    add_run(
        store, [case("f.a")], device="cuda:0", numerics={"allow_tf32": False, "num_threads": 2, "cuda_version": "12"}
    )
    add_run(
        store, [case("f.b")], device="cuda:0", numerics={"allow_tf32": False, "num_threads": 8, "cuda_version": "13"}
    )
    add_run(store, [case("f.a", "failed")], device="cuda:0", numerics={"allow_tf32": True, "num_threads": 2,
                                                                      "compile.warm_up_s": 3.1})
    add_run(store, [case("f.b")], device="cuda:0", numerics={"allow_tf32": True, "compile.warm_up_s": 7.4})
    t = build_tables(store)
    cuda = t.portability[t.portability["device"] == "cuda"].set_index("variant")
    assert sorted(cuda.index) == ["allow_tf32=False", "allow_tf32=True"]
    assert cuda.loc["allow_tf32=False", "n_runs"] == 2  # threads and versions do not split
    assert cuda.loc["allow_tf32=True", "n_runs"] == 2  # nor a measured compile warm-up time
    assert cuda.loc["allow_tf32=True", "failing_n"] == 1 and cuda.loc["allow_tf32=False", "failing_n"] == 0


def test_reference_failures_are_broken_cases_in_every_column(store):
    """A case failing on the reference run is broken there and on the target, listed with its message."""
    add_run(
        store,
        [
            case("f.a"),
            case("f.b", "failed", category="other", message="index 10 is out of bounds"),
            case("f.b", sample=1),
        ],
        run_id="ref",
    )
    add_run(
        store,
        [case("f.a"), case("f.b", "failed", category="other", message="out of bounds on cuda"), case("f.b", sample=1)],
        device="cuda:0",
        run_id="tgt",
    )
    t = build_tables(store)
    cpu, cuda = _row(t.portability, device="cpu"), _row(t.portability, device="cuda")
    assert cpu["failing_n"] == 0 and cpu["portable_n"] == 2 and cpu["cases_reference_failed"] == 1
    assert cuda["failing_n"] == 0 and cuda["cases_failed"] == 0 and cuda["cases_reference_failed"] == 1
    b = _row(t.broken, function="f.b")
    assert b["dtype"] == "float32" and b["message"] == "index 10 is out of bounds"  # the reference's own message
    s = _row(t.broken_summary, framework="torch")
    assert (s["n_cases"], s["n_broken"], s["n_functions_broken"]) == (3, 1, 1)
    assert s["broken_share"] == pytest.approx(1 / 3)
    assert any("1 of 3 cases are broken" in n for n in t.notes)


def test_paper_runs_without_reference_keep_their_failures(store):
    add_run(store, [case("f.a", "failed")], origin="paper", host="t4_vm", reference_device="")
    t = build_tables(store)
    assert _row(t.portability, device="cpu")["failing_n"] == 1 and t.broken.empty


def test_unknown_outcomes_are_timed_but_never_in_shares(store):
    add_run(
        store, [case("f.a", time_ns=100.0), case("f.b", time_ns=100.0)], origin="paper", host="m", reference_device=""
    )
    add_run(
        store,
        [case("f.a", "unknown", time_ns=50.0), case("f.b", "unknown", time_ns=400.0)],
        device="tpu:0",
        origin="paper",
        host="m",
        reference_device="",
    )
    t = build_tables(store)
    tpu = _row(t.portability, device="tpu")
    assert tpu["n_functions"] == 0 and tpu["outcome_unknown"] == 2 and tpu["cases_unknown"] == 2
    assert set(t.per_function[t.per_function["device"] == "tpu"]["status"]) == {"outcome_unknown"}
    s = _row(t.slowdown_summary, target="tpu")
    assert s["n_functions"] == 2 and s["faster_n"] == 1
    assert any("no recorded outcome" in n for n in t.notes)


def test_meta_is_left_out_of_slowdowns(store):
    add_run(store, [case("f.a", time_ns=100.0)])
    add_run(store, [case("f.a", time_ns=1.0)], device="meta")
    add_run(store, [case("f.a", time_ns=50.0)], device="cuda:0")
    t = build_tables(store)
    assert set(t.slowdown_summary["target"]) == {"cuda"}
    assert any("meta does no computation" in n for n in t.notes)
    assert _row(t.portability, device="meta")["portable_n"] == 1  # still in the portability table


def test_slowdown_pairs_stay_on_their_machine(store):
    """Two machines' CPUs are two columns; each target is compared with its own machine's CPU."""
    kw = dict(origin="paper", reference_device="")
    add_run(store, [case("f.a", time_ns=100.0)], host="t4_vm", device_name="CPU of t4_vm", **kw)
    add_run(store, [case("f.a", time_ns=1000.0)], host="tpu_vm", device_name="CPU of tpu_vm", **kw)
    add_run(store, [case("f.a", time_ns=50.0)], device="cuda", host="t4_vm", **kw)
    add_run(store, [case("f.a", time_ns=2000.0)], device="tpu", host="tpu_vm", **kw)
    t = build_tables(store)
    assert len(t.portability[t.portability["device"] == "cpu"]) == 2
    ratios = dict(zip(t.slowdown_summary["target"], t.slowdown_summary["median"], strict=True))
    assert ratios == {"cuda": pytest.approx(0.5), "tpu": pytest.approx(2.0)}


def test_dtype_agree_over_tested_dtypes_only(store):
    claimed = {"f.a": {"cpu": ["float32", "bfloat16", "complex64"]}}
    add_run(store, [case("f.a", dtype="float32"), case("f.a", "failed", dtype="complex64")], claimed=claimed)
    t = build_tables(store)
    row = _row(t.dtype_matrix, device="cpu")
    # the reference run's complex64 failure is a broken case: it tests nothing
    assert row["tested"] == ["float32"] and row["claimed_not_tested"] == ["bfloat16", "complex64"]
    assert row["claimed_not_observed"] == [] and row["agree"] == True  # noqa: E712


def test_other_messages_grouped_by_pattern(store):
    add_run(store, [case("f.ok")])
    add_run(
        store,
        [
            case(
                "f.a", "failed", category="other", message="index 3 is out of bounds for size 2", exc_type="IndexError"
            ),
            case(
                "f.b", "failed", category="other", message="index 7 is out of bounds for size 5", exc_type="IndexError"
            ),
            case("f.c", "failed", category="dtype_unsupported", message="no bf16"),
        ],
        device="cuda:0",
    )
    t = build_tables(store)
    assert len(t.other_messages) == 1
    r = t.other_messages.iloc[0]
    assert r["pattern"] == "index N is out of bounds for size N" and r["cases"] == 2 and r["functions"] == 2
    from portabench.analysis.messages import message_pattern

    assert message_pattern("Lists differ: [] != [tf.float64]\nmore") == "Lists differ: [] != [tf.float64]"
    assert message_pattern("got 'bfloat16' at 3") == "got '…' at N"
