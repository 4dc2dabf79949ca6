"""Outcome ``error`` (adapter bugs, replies not understood): counted apart, never in a share, never broken."""

from __future__ import annotations

from pathlib import Path

from portabench.analysis import build_tables
from portabench.report.html import render_html
from portabench.report.jsonout import render_json
from portabench.report.markdown import render_markdown
from portabench.store import Store
from report_fixtures import add_run, case


def test_internal_errors_are_counted_apart_and_never_enter_a_share(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        add_run(store, [case("f.a"), case("f.b"), case("f.c", "error", message="case could not be run: boom",
                                                             exc_type="KeyError")], run_id="ref")
        add_run(store, [case("f.a"), case("f.b", "error", message="worker reply not understood: protocol version 1",
                                          exc_type="ProtocolError"),
                        case("f.c", "failed", category="not_implemented")], device="cuda:0", run_id="tgt")
        t = build_tables(store)
    cuda = t.portability[t.portability["device"] == "cuda"].iloc[0]
    # f.b has no data on cuda (its only case is an internal error): judged are f.a (portable) and f.c (failing)
    assert (cuda["n_functions"], cuda["portable_n"], cuda["failing_n"]) == (2, 1, 1)
    assert set(t.per_function[t.per_function["device"] == "cuda"]["function"]) == {"f.a", "f.c"}
    # an internal error on the reference run is no evidence that f.c is broken: its cuda failure stays a failure
    assert t.broken.empty
    counts = t.internal_errors.set_index("column")
    assert sorted(counts["n_errors"].items()) == [(c, 1) for c in sorted(counts.index)] and len(counts) == 2
    target = next(c for c in counts.index if "cuda" in c)
    assert counts.loc[target, "exc_types"] == "ProtocolError" and counts.loc[target, "example_function"] == "f.b"
    assert sum("ended in an internal error" in n for n in t.notes) == 2
    markdown = render_markdown(t)
    assert "## Internal errors" in markdown and "protocol version 1" in markdown
    assert len(render_json(t)["tables"]["internal_errors"]) == 2
    html = render_html(t)
    assert '<section id="internal-errors">' in html and "worker reply not understood: protocol version 1" in html


def test_without_internal_errors_the_report_has_no_such_section(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        add_run(store, [case("f.a")], run_id="ref")
        t = build_tables(store)
    assert t.internal_errors.empty and "Internal errors" not in render_markdown(t)
    assert "internal-errors" not in render_html(t)
