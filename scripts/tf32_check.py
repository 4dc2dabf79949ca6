"""Check whether cuDNN TF32 explains float32 mismatches on CUDA: rerun cases with it on and off.

    python3 scripts/tf32_check.py torch.nn.Conv3d torch.nn.ConvTranspose3d --output tf32.json

Runs on a CUDA machine, in this process (it imports torch: it is a diagnostic,
not part of the runner). For each function, its float32 cases (the same case
listing as ``portabench run``) run through the worker-side ``run_case`` against
the CPU twice: with the TF32 switches as PyTorch's defaults leave them (as in a
portabench run: allowed for cuDNN, not for matmul), and with TF32 off for both. Prints one JSON line per case: outcome and max abs/rel error
under each setting.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from portabench.frameworks.torch_adapter import TorchAdapter
from portabench.worker.execute import run_case
from portabench.frameworks.timer import TimingConfig


def _run(adapter: TorchAdapter, case, tf32: bool, matmul_tf32: bool) -> dict:
    # torch.testing (imported for OpInfo) freezes the cudnn flags: set them through its context manager
    cudnn = torch.backends.cudnn
    with cudnn.flags(enabled=cudnn.enabled, benchmark=cudnn.benchmark, deterministic=cudnn.deterministic, allow_tf32=tf32):
        torch.backends.cuda.matmul.allow_tf32 = matmul_tf32
        reply = run_case(adapter, case, TimingConfig(min_repeats=1, budget_s=0.0), do_timing=False)
        flags = {"cudnn.allow_tf32": cudnn.allow_tf32, "matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32}
    return {"outcome": reply.outcome, "max_abs_err": reply.max_abs_err, "max_rel_err": reply.max_rel_err, **flags}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("functions", nargs="+")
    parser.add_argument("--max-samples", type=int, default=5)
    parser.add_argument("--output")
    args = parser.parse_args()
    adapter = TorchAdapter("cuda", "eager", "cpu")
    defaults = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)  # as a portabench run has them
    rows = []
    for case in adapter.list_cases(args.functions, ["float32"], [], args.max_samples).cases:
        row = {"case_id": case.case_id, "default": _run(adapter, case, *defaults), "tf32_off": _run(adapter, case, False, False)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.output:
        Path(args.output).write_text(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(),
                                                 "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
