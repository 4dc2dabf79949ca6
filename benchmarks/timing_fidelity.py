"""Timing fidelity: portabench's per-case timing vs torch.utils.benchmark (and triton's do_bench on CUDA).

For ops of different cost, time the same callable three ways on one device:
  * portabench: ``portabench.frameworks.timer.measure`` with the torch adapter's timer
    (the code path every passing case goes through; default TimingConfig);
  * ``torch.utils.benchmark.Timer(...).blocked_autorange(min_run_time=0.5)`` median;
  * ``triton.testing.do_bench(..., return_mode="median")`` when the device is CUDA and triton is installed.
Prints a Markdown table and writes JSON (``--output``). Usage:

    python benchmarks/timing_fidelity.py --device cpu  [--output timing.json]
    python benchmarks/timing_fidelity.py --device cuda --output timing-h100.json
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Callable

import torch
import torch.utils.benchmark as tub

from portabench.frameworks.torch_adapter import TorchTimer
from portabench.frameworks.timer import TimingConfig, measure


def ops(device: torch.device, big: bool) -> dict[str, Callable[[], object]]:
    """Callables from about a microsecond to tens of milliseconds; sizes scale up on accelerators."""
    g = torch.Generator().manual_seed(0)

    def r(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g).to(device)

    n = 4096 if big else 1024
    a_small, a_big = r(64), r(n, n)
    m1, m2 = r(n, n), r(n, n)
    m256 = r(256, 256)
    img, weight = r(16, 64, 56, 56) if big else r(4, 32, 28, 28), r(64, 64, 3, 3) if big else r(32, 32, 3, 3)
    seq = r(32, 128, 512) if big else r(8, 64, 256)
    lin = torch.nn.Linear(seq.shape[-1], seq.shape[-1]).to(device)
    vec = r(n * n)
    sq = r(128, 128)
    idx = torch.randint(0, n, (n,), generator=g).to(device)
    emb = torch.nn.Embedding(10000, 256).to(device)
    tokens = torch.randint(0, 10000, (64, 128), generator=g).to(device)
    return {
        "add (64)": lambda: a_small + a_small,
        f"add ({n}x{n})": lambda: a_big + a_big,
        f"mul+exp ({n}x{n})": lambda: (a_big * 0.5).exp(),
        "matmul (256)": lambda: m256 @ m256,
        f"matmul ({n})": lambda: m1 @ m2,
        "conv2d 3x3": lambda: torch.nn.functional.conv2d(img, weight, padding=1),
        "softmax": lambda: torch.softmax(seq, dim=-1),
        "layer_norm": lambda: torch.nn.functional.layer_norm(seq, seq.shape[-1:]),
        "gelu": lambda: torch.nn.functional.gelu(seq),
        "linear": lambda: lin(seq),
        f"sum ({n * n})": lambda: vec.sum(),
        f"cumsum ({n * n})": lambda: vec.cumsum(0),
        f"sort ({n * n})": lambda: vec.sort(),
        f"topk ({n * n}, k=100)": lambda: vec.topk(100),
        f"fft ({n * n})": lambda: torch.fft.fft(vec),
        "svd (128)": lambda: torch.linalg.svd(sq),
        "inv (128)": lambda: torch.linalg.inv(sq + 128 * torch.eye(128, device=device)),
        f"index_select ({n} rows)": lambda: a_big.index_select(0, idx),
        f"cat 2x({n}x{n})": lambda: torch.cat([a_big, a_big]),
        f"transpose+contiguous ({n})": lambda: a_big.t().contiguous(),
        "embedding": lambda: emb(tokens),
        "bmm": lambda: torch.bmm(seq, seq.transpose(1, 2)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output")
    args = parser.parse_args()
    device = torch.device(args.device)
    timer = TorchTimer(device)
    try:
        from triton.testing import do_bench  # type: ignore
    except Exception:
        do_bench = None
    use_triton = device.type == "cuda" and do_bench is not None
    rows = []
    with torch.no_grad():
        for name, fn in ops(device, device.type != "cpu").items():
            ours = measure(fn, timer, TimingConfig()).median_ns
            ref = tub.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads()).blocked_autorange(min_run_time=0.5).median * 1e9
            row = {"op": name, "portabench_ns": ours, "torch_benchmark_ns": ref, "ratio_torch": ours / ref}
            if use_triton:
                tri = do_bench(fn, warmup=25, rep=200, return_mode="median") * 1e6
                row.update(triton_ns=tri, ratio_triton=ours / tri)
            rows.append(row)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(f"device: {device} ({name}), torch {torch.__version__}")
    head = "| op | portabench | torch.utils.benchmark | ratio |" + (" do_bench | ratio |" if use_triton else "")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for row in rows:
        line = f"| {row['op']} | {row['portabench_ns'] / 1e3:.1f} µs | {row['torch_benchmark_ns'] / 1e3:.1f} µs | {row['ratio_torch']:.3f} |"
        if use_triton:
            line += f" {row['triton_ns'] / 1e3:.1f} µs | {row['ratio_triton']:.3f} |"
        print(line)
    if args.output:
        with open(args.output, "w") as fh:
            json.dump({"device": str(device), "device_name": name, "torch": torch.__version__, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
