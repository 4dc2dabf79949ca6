"""Regenerate ``compile_messages.json``: real compile-time failure messages of the
installed torch (torch.compile / Inductor / torch.export) on this CPU machine.

    cd /work/wt/issue13 && PYTHONPATH=$PWD/src python tests/data/messages/capture_compile.py

Each snippet runs in its own subprocess; each fixture records the torch version
and the code that produced it. Messages only a GPU machine produces (Triton
missing) are not here: they are quoted from torch's source in the same file with
their ``source``. Not collected by pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_CHARS = 1500

RUNNER = """
import json, torch, torch._dynamo
VERSION = 'torch ' + torch.__version__
try:
{body}
    out = {{"raised": False}}
except BaseException as e:
    out = {{"raised": True, "exc_type": type(e).__module__ + "." + type(e).__qualname__, "message": str(e)}}
out["version"] = VERSION
print("@@JSON@@" + json.dumps(out))
"""

# (id, code, expected rule, expected category)
RAISING: list[tuple[str, str, str, str]] = [
    ("dynamo-fullgraph-graph-break",
     "def f(x):\n    y = x.sin()\n    torch._dynamo.graph_break()\n    return y.cos()\n"
     "torch.compile(f, fullgraph=True)(torch.ones(3))",
     "dynamo-unsupported", "compile_failed"),
    ("dynamo-fullgraph-print",
     "def f(x):\n    print('', end='')\n    return x.cos()\ntorch.compile(f, fullgraph=True)(torch.ones(3))",
     "dynamo-unsupported", "compile_failed"),
    ("dynamo-recompile-limit",
     "torch._dynamo.config.recompile_limit = 2\ntorch._dynamo.config.fail_on_recompile_limit_hit = True\n"
     "f = torch.compile(lambda x, n: x * n, dynamic=False)\nfor n in range(5):\n    f(torch.ones(3), n)",
     "dynamo-recompile-limit", "compile_failed"),
    ("inductor-no-cxx-compiler",
     "import torch._inductor.config as c\nc.cpp.cxx = ('portabench-no-such-compiler',)\n"
     "torch.compile(lambda x: x.sin() + 1)(torch.ones(3))",
     "inductor-backend-failed", "compile_failed"),
    ("dynamo-fake-tensor-error",
     "torch.compile(lambda a, b: torch.mm(a, b))(torch.ones(2, 3), torch.ones(2, 3))",
     "dynamo-trace-error", "compile_failed"),
    ("aot-autograd-double-backward",
     "torch.compile(lambda x, v: torch.autograd.functional.jvp(lambda a: a.sin() * 2, x, v))"
     "(torch.randn(5), torch.randn(5))",
     "compile-feature-unsupported", "compile_failed"),
    ("export-data-ptr",
     "class M(torch.nn.Module):\n    def forward(self, x):\n        return x.data_ptr() != 0\n"
     "torch.export.export(M(), (torch.ones(3),))",
     "fake-tensor-data-access", "compile_failed"),
    ("export-data-dependent-branch",
     "class M(torch.nn.Module):\n    def forward(self, x):\n        return x.sin() if x.sum() > 0 else x.cos()\n"
     "torch.export.export(M(), (torch.ones(3),))",
     "export-failed", "compile_failed"),
]


# messages only a machine with an accelerator produces, quoted from the installed torch's source
QUOTED: list[dict] = [
    {"id": "inductor-triton-missing", "expected_rule": "inductor-backend-failed", "expected_category": "compile_failed",
     "exc_type": "torch._inductor.exc.TritonMissing",
     "message": "Cannot find a working triton installation. Either the package is not installed or it is too old. "
                "More information on installing Triton can be found at: https://github.com/triton-lang/triton",
     "source": "quoted from torch/_inductor/exc.py (class TritonMissing) of torch 2.13.0+cpu: raised when Inductor "
               "compiles for a GPU without a working Triton"},
]


def capture(code: str) -> dict:
    body = textwrap.indent(code, "    ")
    proc = subprocess.run([sys.executable, "-c", RUNNER.format(body=body)], capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("@@JSON@@"):
            return json.loads(line[len("@@JSON@@"):])
    raise RuntimeError(f"no result from snippet (rc {proc.returncode}): {proc.stderr[-2000:]}")


def main() -> None:
    fixtures = []
    for fid, code, rule, category in RAISING:
        out = capture(code)
        if not out["raised"]:
            print(f"{fid}: did not raise", file=sys.stderr)
            continue
        message = out["message"]
        if len(message) > MAX_CHARS:
            message = message[:MAX_CHARS]
        fixtures.append({
            "id": fid, "expected_rule": rule, "expected_category": category, "exc_type": out["exc_type"],
            "message": message, "source": f"{out['version']} on CPU (Linux), produced by running: {code}",
        })
        print(f"{fid}: {out['exc_type']}: {message.splitlines()[0][:120]}")
    (HERE / "compile_messages.json").write_text(json.dumps(fixtures + QUOTED, indent=1) + "\n")


if __name__ == "__main__":
    main()
