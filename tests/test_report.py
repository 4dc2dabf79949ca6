"""Markdown, JSON, HTML and compare reports on synthetic stores."""

from __future__ import annotations

import builtins
import json
import re

import pytest

from portabench.analysis import build_tables
from portabench.errors import PortabenchError
from portabench.report import compare, render_compare_markdown, render_json, render_markdown
from portabench.report.compare import change
from portabench.report.formatting import markdown_table
from portabench.store import Store
from report_fixtures import add_run, build_demo_store, case


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = build_demo_store(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    with Store(path) as s:
        yield s, build_tables(s)


# -- markdown --------------------------------------------------------------------------------------
def test_markdown_contains_every_table(demo):
    _, t = demo
    md = render_markdown(t)
    for heading in (
        "# portabench report",
        "## Environment",
        "## Portability",
        "## Failure categories",
        "## Slowdowns",
        "### Largest slowdowns: torch 2.11 cpu eager → torch 2.11 cuda eager",
        "## Broken cases",
        "## Failing functions",
        "## Numerical errors",
        "## Dtype support",
        "## Notes",
    ):
        assert heading in md, heading
    # one portability table holds every framework, side by side
    portability = md.split("## Portability")[1].split("## Broken cases")[0]
    assert portability.count("| column") == 1
    assert "| torch " in portability and "| jax " in portability
    # environment rows, with device names and numerics
    assert "| torch-cuda" in md and "NVIDIA H100 80GB HBM3" in md and "cudnn_benchmark" in md
    # portability cell: share [lo, hi] (n), computed from the table itself
    row = t.portability[t.portability["device"] == "cuda"].iloc[0]
    cell = (
        f"{100 * row.portable_share:.1f}% [{100 * row.portable_lo:.1f}, {100 * row.portable_hi:.1f}] ({row.portable_n})"
    )
    assert cell in md
    assert "| numerical_mismatch" in md
    assert "torch has runs of versions 2.11 and 2.13: shown separately" in md
    assert "portabench merge" in md
    # top-10 table of the torch pair has exactly 10 ranked rows
    section = md.split("### Largest slowdowns: torch 2.11 cpu eager → torch 2.11 cuda eager")[1].split("##")[0]
    assert len(re.findall(r"^\|\s+\d+ \| torch\.fn", section, flags=re.M)) == 10
    assert "<bound method" not in md and "Series" not in md and " nan " not in md


def test_markdown_cells_are_escaped(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        add_run(s, [case("f.a")], numerics={"flag": "a|b"})
        md = render_markdown(build_tables(s))
    assert "a\\|b" in md


def test_markdown_table_without_tabulate(monkeypatch):
    real_import = builtins.__import__

    def no_tabulate(name, *args, **kwargs):
        if name == "tabulate":
            raise ImportError("no tabulate")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tabulate)
    text = markdown_table(["name", "n"], [["a|b", 1], ["long name", 22]], ["l", "r"])
    lines = text.splitlines()
    assert lines[0].startswith("| name") and lines[1].startswith("|:") and lines[1].endswith(":|")
    assert "a\\|b" in lines[2] and lines[3].endswith("22 |")
    assert len({len(line) for line in lines}) == 1  # aligned


def test_markdown_empty_store(tmp_path):
    with Store(tmp_path / "e.sqlite") as s:
        md = render_markdown(build_tables(s))
    assert "No runs in the store." in md and "no runs" in md


# -- json ------------------------------------------------------------------------------------------
def test_json_round_trips_and_is_complete(demo):
    _, t = demo
    data = render_json(t)
    text = json.dumps(data, allow_nan=False)  # no NaN anywhere
    assert json.loads(text) == data
    assert data["format"] == "portabench-report" and data["notes"] == t.notes
    tables = data["tables"]
    for name, df in t.frames().items():
        assert len(tables[name]) == len(df), name
    cuda = next(r for r in tables["portability"] if r["device"] == "cuda")
    for key in (
        "framework",
        "framework_version",
        "device",
        "mode",
        "n_functions",
        "portable_n",
        "portable_share",
        "portable_lo",
        "portable_hi",
        "failing_share",
    ):
        assert key in cuda
    ref = t.portability[t.portability["device"] == "cuda"].iloc[0]
    assert cuda["portable_lo"] == pytest.approx(ref.portable_lo) and cuda["n_functions"] == ref.n_functions
    env = tables["environment"][0]
    assert isinstance(env["numerics"], dict)
    dt = next(r for r in tables["dtype_matrix"] if r["claimed"])
    assert isinstance(dt["claimed"], list)
    assert tables["slowdown_summary"][0]["median_lo"] is not None


# -- compare ---------------------------------------------------------------------------------------
def test_change_classification():
    assert change("partial", "portable") == "fixed"
    assert change("complete", "portable") == "fixed"
    assert change("portable", "complete") == "broke"
    assert change("partial", "complete") == "still failing"
    assert change("portable", "portable") == "still portable"
    assert change(None, "portable") == "new"
    assert change("reference_broken", "partial") == "new"
    assert change("portable", None) == "gone"
    assert change("missing", None) == "unmeasured"


def _two_stores(tmp_path):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with Store(a) as s:
        add_run(s, [case(f) for f in ("f.fix", "f.break", "f.ok", "f.bad", "f.gone")], version="2.11")
        add_run(
            s,
            [case("f.fix", "failed"), case("f.break"), case("f.ok"), case("f.bad", "failed"), case("f.gone")],
            device="cuda:0",
            version="2.11",
        )
    with Store(b) as s:
        add_run(s, [case(f) for f in ("f.fix", "f.break", "f.ok", "f.bad", "f.new")], version="2.13")
        add_run(
            s,
            [case("f.fix"), case("f.break", "failed"), case("f.ok"), case("f.bad", "failed"), case("f.new")],
            device="cuda:0",
            version="2.13",
        )
    return a, b


def test_compare_two_stores(tmp_path):
    a, b = _two_stores(tmp_path)
    df = compare(a, b)
    cuda = df[df["device"] == "cuda"].set_index("function")
    assert cuda["change"].to_dict() == {
        "f.fix": "fixed",
        "f.break": "broke",
        "f.ok": "still portable",
        "f.bad": "still failing",
        "f.new": "new",
        "f.gone": "gone",
    }
    assert cuda.loc["f.break", "status_a"] == "portable" and cuda.loc["f.break", "status_b"] == "complete"
    assert set(cuda["column_a"]) <= {"torch 2.11 cuda eager", "(absent)"}
    assert list(df["change"][df["device"] == "cuda"])[0] == "broke"  # breakages first
    md = render_compare_markdown(df)
    assert "| torch       | cuda     | eager  | f.break" in md or "f.break" in md
    assert "still portable" in md  # in the summary header
    assert "| f.ok" not in md  # unchanged functions omitted by default
    assert "f.ok" in render_compare_markdown(df, show_unchanged=True)


def test_compare_run_ids_in_one_store(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        add_run(s, [case("f.a", "failed"), case("f.b")], run_id="old", device="cuda:0", version="2.11")
        add_run(s, [case("f.a"), case("f.b", "failed")], run_id="new", device="cuda:0", version="2.13")
        df = compare("old", "new", store=s)
        assert df.set_index("function")["change"].to_dict() == {"f.a": "fixed", "f.b": "broke"}
        with pytest.raises(PortabenchError):
            compare("old", "nope", store=s)
    with pytest.raises(PortabenchError):
        compare(tmp_path / "missing.sqlite", tmp_path / "s.sqlite")


def test_compare_accepts_tables(demo):
    _, t = demo
    df = compare(t, t)
    assert not df.empty and set(df["change"]) <= {"still portable", "still failing", "unmeasured"}


# -- html ------------------------------------------------------------------------------------------
def test_html_is_self_contained_with_embedded_images(demo, tmp_path):
    from portabench.report import write_html

    store, t = demo
    path = write_html(t, tmp_path / "out", comparison=compare("torch-cpu", "torch-new-cpu", store=store))
    assert path == tmp_path / "out" / "index.html"
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, flags=re.I)
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<script[^>]+src=", html) and not re.search(r"<link[^>]+stylesheet", html)
    assert "@import" not in html and "url(" not in html
    images = re.findall(r'<img class="plot"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) >= 5  # portability, categories, 2 slowdown ECDFs, errors
    import base64

    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert 'id="function-search"' in html and 'id="function-table"' in html
    # every failing function links to an anchor that exists on the page
    hrefs = set(re.findall(r'href="#(fail-[^"]+)"', html))
    ids = set(re.findall(r'id="(fail-[^"]+)"', html))
    assert hrefs and hrefs <= ids
    # messages are escaped, environment and comparison present
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html and "<b>&</b>" not in html
    assert "NVIDIA H100 80GB HBM3" in html and 'id="comparison"' in html and "chg-fixed" in html
    assert "shown separately" in html


def test_html_empty_store(tmp_path):
    from portabench.report import write_html

    with Store(tmp_path / "e.sqlite") as s:
        html = write_html(build_tables(s), tmp_path / "out").read_text()
    assert "No runs in the store." in html and "<img" not in html


def test_render_compare_html_fragment(tmp_path):
    from portabench.report import render_compare_html

    a, b = _two_stores(tmp_path)
    frag = render_compare_html(compare(a, b))
    assert frag.lstrip().startswith('<section id="comparison">') and "f.break" in frag and "chg-broke" in frag


def test_compare_command(tmp_path):
    from portabench.report import compare_command

    a, b = _two_stores(tmp_path)
    text = compare_command(str(a), str(b))
    assert "# portabench comparison" in text and "f.break" in text
    with Store(tmp_path / "runs.sqlite") as s:
        add_run(s, [case("f.a", "failed")], run_id="r1", version="1")
        add_run(s, [case("f.a")], run_id="r2", version="2")
    text = compare_command("r1", "r2", str(tmp_path / "runs.sqlite"))
    assert "fixed" in text
    with pytest.raises(PortabenchError):
        compare_command("r1", "r2", str(tmp_path / "nope.sqlite"))


# -- issue 11 / issue 12 item 8: what the reports say ----------------------------------------------
def _soft_and_hard_store(path):
    with Store(path) as s:
        claimed = {"tf.a": {"cpu": ["float32", "bfloat16"], "gpu": ["float32", "float16", "bfloat16"]}}
        add_run(
            s,
            [case("tf.a"), case("tf.a", dtype="float16"), case("tf.b")],
            framework="tensorflow",
            claimed=claimed,
            numerics={"soft_device_placement": False},
        )
        add_run(
            s,
            [
                case("tf.a", "failed", category="not_implemented", message="No registered 'Foo' OpKernel for 'GPU'"),
                case("tf.a", dtype="float16"),
                case("tf.b"),
            ],
            framework="tensorflow",
            device="gpu",
            claimed=claimed,
            numerics={"soft_device_placement": False},
        )
        add_run(
            s,
            [case("tf.a"), case("tf.a", dtype="float16"), case("tf.b")],
            framework="tensorflow",
            device="gpu+soft",
            device_kind="gpu",
            claimed=claimed,
            numerics={"soft_device_placement": True},
        )
    return path


def test_markdown_names_failing_functions_before_dtypes_and_keeps_soft_apart(tmp_path):
    with Store(_soft_and_hard_store(tmp_path / "s.sqlite")) as s:
        md = render_markdown(build_tables(s))
    failing = md.split("## Failing functions")[1].split("\n## ")[0]
    assert "### tensorflow 2.11 gpu eager\n" in failing
    assert "| `tf.a` " in failing and "not_implemented" in failing and "1 / 2" in failing
    assert "No registered 'Foo' OpKernel for 'GPU'" in failing
    assert "soft placement" not in failing  # nothing fails in the soft-placement column
    assert md.index("## Failing functions") < md.index("## Dtype support")
    assert "tensorflow 2.11 gpu eager (soft placement)" in md.split("## Portability")[1].split("## Broken")[0]


def test_markdown_dtypes_list_only_contradictions(tmp_path):
    with Store(_soft_and_hard_store(tmp_path / "s.sqlite")) as s:
        md = render_markdown(build_tables(s))
    dtypes = md.split("## Dtype support")[1].split("\n## ")[0]
    # gpu (hard): float32 claimed and failing -> the one contradiction; bfloat16 claimed but untested is not one
    assert "| tensorflow 2.11 gpu eager  | tf.a" in dtypes or "| tensorflow 2.11 gpu eager | tf.a" in dtypes
    assert "bfloat16" not in dtypes  # claimed but untested: never listed as a contradiction
    assert "not tested" in dtypes and "claimed, not observed" not in md


def test_json_has_variant_broken_and_other_tables(tmp_path):
    with Store(_soft_and_hard_store(tmp_path / "s.sqlite")) as s:
        data = render_json(build_tables(s))
    assert data["format_version"] == 3
    assert {"broken", "broken_summary", "other_messages"} <= set(data["tables"])
    variants = {r["column"]: r["variant"] for r in data["tables"]["portability"]}
    assert variants["tensorflow 2.11 gpu eager (soft placement)"] == "soft placement"
    gpu = next(r for r in data["tables"]["dtype_matrix"] if r["column"] == "tensorflow 2.11 gpu eager")
    assert gpu["claimed_not_tested"] == ["bfloat16"] and gpu["claimed_not_observed"] == ["float32"]


def test_notes_state_each_fact_once_with_one_advice():
    from portabench.report.formatting import distinct_notes

    analysis = (
        "jax 0.10 eager: only cpu runs, no target device to compare; to add it, run "
        "`portabench run --framework jax --device <device>` on a machine that has it, then "
        "`portabench merge this.sqlite that.sqlite -o both.sqlite`"
    )
    study = (
        "jax: targets not available on this machine: gpu, tpu. To add one, run `portabench study --framework jax "
        "--devices cpu,<device>` on a machine that has it, then "
        "`portabench merge this.sqlite that.sqlite -o both.sqlite`."
    )
    other = "torch: targets not available on this machine: cuda, mps, xla."
    assert distinct_notes([analysis, study, other, other]) == [analysis, other]
    tpu = "jax 0.10 eager: no tpu run in the store: targets not available; to add it, run ..."
    gpu = "jax 0.10 eager: no gpu run in the store: targets not available; to add it, run ..."
    assert distinct_notes([tpu, gpu, tpu]) == [tpu, gpu]  # one requested device each


def test_html_notes_render_code_spans_not_backticks(tmp_path):
    from portabench.report.html import note_html, render_html

    assert str(note_html("run `portabench merge a <b>`")) == "run <code>portabench merge a &lt;b&gt;</code>"
    with Store(tmp_path / "s.sqlite") as s:
        add_run(s, [case("f.a")])
        page = render_html(build_tables(s))
    notes = page.split('id="notes"')[1].split("</section>")[0]
    assert "`" not in notes and "<code>portabench run --framework torch --device &lt;device&gt;</code>" in notes
    assert notes.count("no target device") == 1
