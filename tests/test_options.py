"""Options as dataclasses (commands/options.py, case_options.py): the CLI's defaults are the library's, written
once; comma-separated values are split by the command layer; RunRequest's defaults are CaseOptions'."""

from __future__ import annotations

import pytest

from portabench.case_options import CaseOptions
from portabench.cli import build_parser
from portabench.commands.options import case_options, selection, split_list
from portabench.errors import PortabenchError
from portabench.frameworks import get_framework
from portabench.frameworks.timer import TimingConfig
from portabench.runner.session import RunRequest
from portabench.sampling import preset_manifest
from portabench.selection import Selection
from portabench.study import request_for


def test_cli_defaults_are_the_library_defaults() -> None:
    run = build_parser().parse_args(["run", "--framework", "torch", "--device", "cpu"])
    assert case_options(run) == CaseOptions()
    assert selection(run) == Selection()
    sample = build_parser().parse_args(["sample", "--framework", "jax"])
    assert selection(sample) == Selection()  # --per-decile, --top and --seed defaults included
    request = RunRequest(framework="torch", device="cpu")
    defaults = CaseOptions()
    assert (request.max_samples, request.timeout_s, request.timing, request.compile_timeout_s) == (
        defaults.max_samples, defaults.timeout_s, defaults.timing, defaults.compile_timeout_s)


def test_command_layer_splits_and_checks() -> None:
    args = build_parser().parse_args(["run", "--framework", "torch", "--device", "cpu", "--dtypes", "float32, int64",
                                      "--functions", " torch.add, ,torch.mul", "--repeats", "3",
                                      "--time-budget", "0.01", "--no-timing", "--specs", "a.toml", "--workers", "2"])
    options = case_options(args)
    assert options.dtypes == ("float32", "int64") and options.specs == ("a.toml",) and options.workers == 2
    assert options.timing == TimingConfig(min_repeats=3, budget_s=0.01) and options.do_timing is False
    assert selection(args).functions == ("torch.add", "torch.mul")
    assert split_list("cpu, meta,") == ["cpu", "meta"] and split_list(None) is None
    run = ["run", "--framework", "torch", "--device", "cpu"]
    with pytest.raises(PortabenchError, match="--functions needs at least one name"):
        selection(build_parser().parse_args([*run, "--functions", " , "]))
    with pytest.raises(PortabenchError, match="--max-samples must be at least 1"):
        case_options(build_parser().parse_args([*run, "--max-samples", "0"]))


def test_request_for_builds_the_run_request_from_case_options() -> None:
    options = CaseOptions(dtypes=("float32",), specs=("s.toml",), max_samples=2, timeout_s=9.0, workers=3,
                          compile_timeout_s=7.0, fullgraph=True, do_timing=False)
    request = request_for(get_framework("torch"), "meta", "cpu", "compile", preset_manifest("torch", "paper"), options,
                          resume=True, budget_s=5.0)
    assert (request.dtypes, request.specs, request.max_samples, request.timeout_s, request.workers) == (
        ["float32"], ["s.toml"], 2, 9.0, 3)
    assert (request.compile_timeout_s, request.fullgraph, request.do_timing, request.resume, request.budget_s) == (
        7.0, True, False, True, 5.0)
    assert request.functions == preset_manifest("torch", "paper").names() and not request.strict_functions
