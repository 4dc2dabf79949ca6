"""``portabench study --cluster`` on a real local Ray cluster: same results as a local study, lost nodes, resume.

The cluster (``ray.cluster_utils.Cluster``) has a head that runs no tasks and
three worker nodes of one CPU each whose custom resources stand for device
kinds: one offers ``cpu``, two offer torch's ``meta``. The CLI runs as a user
runs it, in a subprocess, connecting to the cluster's address.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, REPO, run_cli
from portabench.cases import CaseDescriptor
from portabench.cluster.messages import NodeFacts
from portabench.cluster.node import _check
from portabench.cluster.plan import shard_cases
from portabench.cluster.resources import parse_place, placement_for
from portabench.errors import PortabenchError

FAST = ["--dtypes", "float32", "--max-samples", "1", "--no-timing", "--timeout", "60"]
SLOW = ["--functions", "slow.sleep", "--specs", str(DATA / "slow.toml"), "--dtypes", "float32", "--no-timing"]
OBJECT_STORE = 80 * 2**20


# -- without a cluster ---------------------------------------------------------------------------------------------
def test_place_specs_parse_to_ray_resources() -> None:
    assert parse_place(["cuda=GPU:1,accelerator_type:H100", "xla=neuron_cores:2"]) == {
        "cuda": {"GPU": 1.0, "accelerator_type:H100": 0.001}, "xla": {"neuron_cores": 2.0}}
    for bad in ("cuda", "=GPU", "cuda=", "cuda=GPU:0", "cuda=GPU:1,,TPU"):
        with pytest.raises(PortabenchError):
            parse_place([bad])
    assert placement_for("meta").ray_options() == {"num_cpus": 1.0, "resources": {"portabench_device_meta": 1.0}}
    assert placement_for("cuda").ray_options() == {"num_cpus": 1.0, "resources": {}, "num_gpus": 1.0}
    assert placement_for("cuda").offered_by({"GPU": 2.0}) and not placement_for("tpu").offered_by({"GPU": 2.0})


def test_shards_deal_every_unrecorded_case_exactly_once() -> None:
    cases = [CaseDescriptor("f", "s", "float32", i) for i in range(7)]
    shares = shard_cases(cases, {cases[2].case_id}, 3)
    ids = [c.case_id for share in shares for c in share]
    assert len(shares) == 3 and sorted(ids) == sorted(c.case_id for c in cases if c is not cases[2])
    assert len(ids) == len(set(ids)) and [len(s) for s in shares] == [2, 2, 2]


def test_a_node_with_another_framework_version_or_device_model_is_refused() -> None:
    facts = NodeFacts(node_id="n", host="h", ip="1.2.3.4", platform="p", python="3", portabench_version="0.1.0",
                      framework_version="2.13", device_kind="cuda", device_name="NVIDIA H100")
    _check(facts, {"framework_version": "2.13", "device_name": "NVIDIA H100"})
    for expect in ({"framework_version": "2.12"}, {"device_name": "NVIDIA A100"}):
        with pytest.raises(PortabenchError, match="never spread"):
            _check(facts, expect)


def _one_line_error(proc: subprocess.CompletedProcess, pattern: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("portabench: error:"), proc.stderr
    assert pattern in lines[0]


def test_cluster_without_ray_is_a_one_line_error_saying_what_to_install(tmp_path: Path) -> None:
    hidden = tmp_path / "hide" / "ray"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('ray hidden by the test')\n")
    proc = run_cli("study", "--framework", "torch", "--functions", "torch.add", "--cluster", "auto", cwd=tmp_path,
                   env={"PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{tmp_path / 'hide'}"})
    _one_line_error(proc, "pip install 'portabench[ray]'")
    _one_line_error(run_cli("study", "--shards", "2", cwd=tmp_path), "--shards and --place go with --cluster")


# -- on a local Ray cluster -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    """Head (no task slots) + a ``cpu`` node + two ``meta`` nodes, 1 CPU each; fast node-death detection."""
    ray_cluster_utils = pytest.importorskip("ray.cluster_utils", reason="the ray extra is not installed")
    pytest.importorskip("torch", reason="the torch extra is not installed")
    old = os.environ.get("PYTHONPATH")
    # Ray workers import this portabench
    os.environ["PYTHONPATH"] = str(REPO / "src") + (os.pathsep + old if old else "")
    head = {"num_cpus": 0, "object_store_memory": OBJECT_STORE, "include_dashboard": False,
            "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4,
                               "health_check_initial_delay_ms": 0}}
    c = ray_cluster_utils.Cluster(initialize_head=True, head_node_args=head)
    try:
        nodes = {"cpu": c.add_node(num_cpus=1, resources={"portabench_device_cpu": 1},
                                   object_store_memory=OBJECT_STORE)}
        for name in ("meta1", "meta2"):
            nodes[name] = c.add_node(num_cpus=1, resources={"portabench_device_meta": 1},
                                     object_store_memory=OBJECT_STORE)
        yield c, nodes
    finally:
        c.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def _outcomes(store: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    with sqlite3.connect(store) as conn:
        rows = conn.execute(
            "SELECT u.device, r.case_id, r.outcome, r.category FROM results r JOIN runs u USING (run_id)"
        )
        return {(d, c): (o, cat) for d, c, o, cat in rows}


def _runs(store: Path) -> dict[str, tuple[str, str, dict]]:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT run_id, device, status, config FROM runs")
        return {d: (rid, s, json.loads(c)) for rid, d, s, c in rows}


def _duplicates(store: Path) -> int:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT COUNT(*) - COUNT(DISTINCT run_id || case_id) FROM results").fetchone()[0]


def _count(store: Path, device: str) -> int:
    try:
        with sqlite3.connect(store, timeout=5) as conn:
            query = "SELECT COUNT(*) FROM results JOIN runs USING (run_id) WHERE device = ?"
            return conn.execute(query, (device,)).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _node_ids(config: dict) -> list[str]:
    return [n["node_id"] for n in config["cluster"]["nodes"]]


@pytest.mark.slow
def test_cluster_study_stores_what_a_local_study_stores(cluster, tmp_path: Path) -> None:
    c, nodes = cluster
    args = ["study", "--framework", "torch", "--devices", "cpu,meta", "--functions",
            "torch.add,torch.nonzero,torch.zeros,fault.segfault", "--specs", str(DATA / "faults.toml"), *FAST]
    local = run_cli(*args, "--store", str(tmp_path / "local.sqlite"), "-o", str(tmp_path / "local.md"), cwd=tmp_path,
                    timeout=300)
    assert local.returncode == 0, local.stderr
    remote = run_cli(*args, "--cluster", c.address, "--store", str(tmp_path / "cluster.sqlite"),
                     "-o", str(tmp_path / "c.md"), cwd=tmp_path, timeout=300)
    assert remote.returncode == 0, remote.stderr
    expected, got = _outcomes(tmp_path / "local.sqlite"), _outcomes(tmp_path / "cluster.sqlite")
    assert got == expected and ("meta", "torch.nonzero|opinfo:nonzero|float32|0") in got
    # a segfaulting case killed a portabench worker on the node, not the Ray task: recorded, and the run went on
    assert {v for (d, case), v in got.items() if case.startswith("fault.segfault")} == {("failed", "crash")}
    runs = _runs(tmp_path / "cluster.sqlite")
    assert {d: s for d, (_, s, _) in runs.items()} == {"cpu": "complete", "meta": "complete"}
    assert _node_ids(runs["cpu"][2]) == [nodes["cpu"].node_id]  # placed by the custom resources
    assert set(_node_ids(runs["meta"][2])) <= {nodes["meta1"].node_id, nodes["meta2"].node_id}
    assert runs["meta"][2]["cluster"]["nodes"][0]["framework_version"] and "| meta" in (tmp_path / "c.md").read_text()


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "portabench", *args], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, what: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.slow
def test_driver_stopped_mid_study_is_resumed_by_the_same_command(cluster, tmp_path: Path) -> None:
    c, _ = cluster
    store = tmp_path / "s.sqlite"
    args = ["study", "--framework", "torch", "--devices", "cpu,meta", *SLOW, "--cluster", c.address,
            "--store", str(store)]
    proc = _start(args, tmp_path)
    try:
        _wait_for(lambda: _count(store, "meta") >= 2, "two meta results")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver dies mid-study; Ray ends its tasks
        proc.communicate()
    first = _runs(store)
    assert first["meta"][1] == "running" and _count(store, "meta") < 6
    again = run_cli(*args, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    runs = _runs(store)
    assert {d: (rid, s) for d, (rid, s, _) in runs.items()} == {d: (first[d][0], "complete") for d in ("cpu", "meta")}
    assert _count(store, "meta") == _count(store, "cpu") == 6 and _duplicates(store) == 0


@pytest.mark.slow
def test_a_node_lost_mid_study_loses_and_duplicates_nothing(cluster, tmp_path: Path) -> None:
    """Two shards of the meta run on the two meta nodes; the node of the first one is killed after its first result."""
    c, nodes = cluster
    store = tmp_path / "s.sqlite"
    proc = _start(["study", "--framework", "torch", "--devices", "cpu,meta", *SLOW, "--shards", "2",
                   "--cluster", c.address, "--store", str(store)], tmp_path)
    try:
        _wait_for(lambda: _count(store, "meta") >= 1, "a meta result")
        opener = _node_ids(_runs(store)["meta"][2])[0]
        victim = next(n for n in nodes.values() if n.node_id == opener)
        c.remove_node(victim, allow_graceful=False)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    # the lost node had unfinished cases, and they were re-placed
    assert "placed again" in " ".join((out + err).split())
    runs = _runs(store)
    assert {d: s for d, (_, s, _) in runs.items()} == {"cpu": "complete", "meta": "complete"}
    assert _count(store, "meta") == _count(store, "cpu") == 6 and _duplicates(store) == 0
    survivor = next(n.node_id for k, n in nodes.items() if k.startswith("meta") and n.node_id != opener)
    assert set(_node_ids(runs["meta"][2])) == {opener, survivor}
