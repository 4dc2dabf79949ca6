"""Kill the portabench parent at random moments of a run, resume, and count what was lost.

Runs the real CLI on the numpy-only fake adapter (tests/fake_adapter.py; no framework starts):
each trial starts a run of CASES slow cases, kills the parent (only the parent) with SIGKILL or
SIGTERM after a random delay, checks that every process the run started is gone, resumes with
``--resume`` and counts results lost, duplicated, function rows and the run's status. Prints one
JSON object. Used for the figures of docs/reliability.md:

    PYTHONPATH=src python3 scripts/adversarial_kill.py --trials 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKE_CLI = REPO / "tests" / "fake_adapter.py"
CASES = 10


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cli(folder: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, FAKE_PIDS=str(folder / "pids"), FAKE_SLOW_S="0.3",
               PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(FAKE_CLI), "run", "--framework", "fake", "--device", "cpu",
                             "--sample", str(folder / "manifest.json"), "--dtypes", "float32", "--repeats", "1",
                             "--time-budget", "0", "--store", str(folder / "s.sqlite"), *extra],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _worker_pids(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _statuses(db: Path) -> list[str]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT status FROM runs")]
    finally:
        conn.close()


def trial(sig: signal.Signals, rng: random.Random) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "manifest.json").write_text(json.dumps({
            "format": "portabench-manifest/1", "framework": "fake", "name": "listed", "seed": None, "params": {},
            "functions": [{"function": f"fake.slow_{i}"} for i in range(CASES)]}))
        proc = _cli(folder)
        time.sleep(rng.uniform(0.5, 5.0))
        workers = _worker_pids(proc.pid)
        os.kill(proc.pid, sig)
        code = proc.wait(timeout=60)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.05)
        orphans = sum(_alive(p) for p in workers)
        for p in workers:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        before = _statuses(folder / "s.sqlite")
        resumed = _cli(folder, "--resume")
        resumed_code = resumed.wait(timeout=300)
        conn = sqlite3.connect(folder / "s.sqlite")
        ids = [r[0] for r in conn.execute("SELECT case_id FROM results")]
        functions = conn.execute("SELECT COUNT(*) FROM functions").fetchone()[0]
        statuses = [r[0] for r in conn.execute("SELECT status FROM runs")]
        conn.close()
        return {"signal": sig.name, "exit": code, "runs_before_resume": before, "workers_seen": len(workers), "orphans": orphans,
                "resume_exit": resumed_code, "lost": CASES - len(set(ids)), "duplicates": len(ids) - len(set(ids)),
                "function_rows": functions, "runs": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="trials per signal (default 5)")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    trials = [trial(sig, rng) for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP) for _ in range(args.trials)]
    summary = {
        "trials": len(trials), "cases_per_run": CASES,
        "lost": sum(t["lost"] for t in trials), "duplicates": sum(t["duplicates"] for t in trials),  # type: ignore[misc]
        "orphans": sum(t["orphans"] for t in trials),  # type: ignore[misc]
        "complete_after_resume": sum(t["runs"] == ["complete"] and t["function_rows"] == CASES for t in trials),
        "signalled_exit_130": sum(t["exit"] == 130 for t in trials if t["signal"] != "SIGKILL"),
        "signalled_mid_run": sum(bool(t["runs_before_resume"]) for t in trials if t["signal"] != "SIGKILL"),
        "signalled_mid_run_marked_interrupted": sum(t["runs_before_resume"] == ["interrupted"] for t in trials
                                                    if t["signal"] != "SIGKILL"),
    }
    print(json.dumps({"summary": summary, "trials": trials}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
