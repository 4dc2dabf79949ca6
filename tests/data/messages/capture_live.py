"""Regenerate ``live_messages.json``: real failure messages produced by running
PyTorch / JAX / TensorFlow calls on this (CPU-only) machine.

    cd /work/main && python tests/data/messages/capture_live.py

Each fixture records the framework version that produced it. Each call runs in
its own subprocess (so that TensorFlow, JAX and torch do not share a process and
so that dead-worker cases really die). Not collected by pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_CHARS = 1500  # long messages are cut here (noted in the fixture)

PRELUDE = {
    "torch": "import torch, warnings\nF = torch.nn.functional\nVERSION = 'torch ' + torch.__version__\n",
    "jax": "import jax, jax.numpy as jnp, warnings\nVERSION = 'jax ' + jax.__version__\n",
    "tensorflow": (
        "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nos.environ['TF_ENABLE_ONEDNN_OPTS'] = '0'\n"
        "import tensorflow as tf\ntf.config.set_soft_device_placement(False)\n"
        "VERSION = 'tensorflow ' + tf.__version__\n"
    ),
    "python": "import sys\nVERSION = 'python ' + sys.version.split()[0]\n",
}

RUNNER = """
import json
try:
{body}
    out = {{"raised": False}}
except BaseException as e:
    out = {{"raised": True, "exc_type": type(e).__module__ + "." + type(e).__qualname__, "message": str(e)}}
out["version"] = VERSION
print("@@JSON@@" + json.dumps(out))
"""

# (id, framework, code, expected rule, expected category)
RAISING: list[tuple[str, str, str, str, str]] = [
    # ---- torch (CPU build; the meta device stands in for a backend without kernels)
    ("torch-meta-nonzero", "torch",
     "torch.nonzero(torch.ones(3, device='meta'))",
     "torch-no-meta-kernel", "not_implemented"),
    ("torch-meta-unique", "torch",
     "torch.unique(torch.ones(3, device='meta'))",
     "torch-no-meta-kernel", "not_implemented"),
    ("torch-meta-lstsq", "torch",
     "torch.linalg.lstsq(torch.ones(3, 2, device='meta'), torch.ones(3, 1, device='meta'))",
     "torch-no-meta-kernel", "not_implemented"),
    ("torch-mps-backend", "torch", "torch.ones(2, device='mps')", "torch-missing-backend-kernel", "not_implemented"),
    ("torch-sparsecsr-meta-backend", "torch",
     "torch.ones(2, 2).to_sparse_csr().to('meta').matmul(torch.ones(2, 2, device='meta'))",
     "torch-missing-backend-kernel", "not_implemented"),
    ("torch-module-forward", "torch", "torch.nn.Module()(1)", "not-implemented-type", "not_implemented"),
    ("torch-matmul-bool", "torch",
     "torch.matmul(torch.ones(2, 2, dtype=torch.bool), torch.ones(2, 2, dtype=torch.bool))",
     "torch-dtype-dispatch", "dtype_unsupported"),
    ("torch-cholesky-half", "torch",
     "torch.linalg.cholesky(torch.eye(2, dtype=torch.half))",
     "torch-dtype-dispatch", "dtype_unsupported"),
    ("torch-histc-long", "torch",
     "torch.histc(torch.ones(3, dtype=torch.int64))",
     "torch-dtype-dispatch", "dtype_unsupported"),
    ("torch-erfinv-complex", "torch",
     "torch.erfinv(torch.ones(2, dtype=torch.complex64))",
     "torch-dtype-dispatch", "dtype_unsupported"),
    ("torch-conv-mixed", "torch",
     "F.conv2d(torch.ones(1, 1, 3, 3, dtype=torch.float64), torch.ones(1, 1, 2, 2))",
     "dtype-mismatch", "dtype_unsupported"),
    ("torch-mm-mixed", "torch",
     "torch.mm(torch.ones(2, 2, dtype=torch.float64), torch.ones(2, 2))",
     "dtype-mismatch", "dtype_unsupported"),
    ("torch-index-put-mixed", "torch",
     "torch.zeros(3).index_put_((torch.tensor([0]),), torch.tensor([1.0], dtype=torch.float64))",
     "dtype-mismatch", "dtype_unsupported"),
    ("torch-batchnorm-mixed", "torch",
     "F.batch_norm(torch.ones(2, 2), torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))",
     "dtype-mismatch", "dtype_unsupported"),
    ("torch-lstm-mixed", "torch",
     "torch.nn.LSTM(2, 2)(torch.ones(1, 1, 2, dtype=torch.float64))",
     "dtype-mismatch", "dtype_unsupported"),
    ("torch-addmv-mixed", "torch",
     "torch.addmv(torch.ones(2), torch.ones(2, 2, dtype=torch.float64), torch.ones(2))",
     "dtype-mismatch", "dtype_unsupported"),
    ("torch-inv-int64", "torch",
     "torch.linalg.inv(torch.ones(2, 2, dtype=torch.int64))",
     "dtype-kind-required", "dtype_unsupported"),
    ("torch-embedding-float-indices", "torch",
     "F.embedding(torch.ones(2), torch.ones(3, 2))",
     "dtype-kind-required", "dtype_unsupported"),
    ("torch-view-as-complex-int", "torch",
     "torch.view_as_complex(torch.ones(2, 2, dtype=torch.int32))",
     "dtype-kind-required", "dtype_unsupported"),
    ("torch-fft-half", "torch",
     "torch.fft.fft(torch.ones(3, dtype=torch.half))",
     "unsupported-dtype", "dtype_unsupported"),
    ("torch-sort-complex", "torch",
     "torch.sort(torch.ones(2, dtype=torch.complex64))",
     "unsupported-dtype", "dtype_unsupported"),
    ("torch-topk-bool", "torch",
     "torch.topk(torch.ones(3, dtype=torch.bool), 1)",
     "unsupported-dtype", "dtype_unsupported"),
    ("torch-cpu-alloc", "torch", "torch.empty(2**62, dtype=torch.uint8)", "host-allocation-failed", "memory"),
    ("torch-no-cuda", "torch", "torch.ones(2, device='cuda')", "device-unavailable", "other"),
    ("torch-meta-to-numpy", "torch", "torch.ones(2, device='meta').numpy()", "device-mismatch-error", "other"),
    ("torch-assert-close", "torch",
     "torch.testing.assert_close(torch.ones(3), torch.ones(3) * 1.5)",
     "comparison-assertion", "numerical_mismatch"),
    ("torch-assert-close-dtype", "torch",
     "torch.testing.assert_close(torch.ones(3), torch.ones(3, dtype=torch.float64))",
     "comparison-assertion", "numerical_mismatch"),
    ("torch-gradcheck", "torch", textwrap.dedent("""\
        class Bad(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
            @staticmethod
            def backward(ctx, g):
                return g * 3
        torch.autograd.gradcheck(Bad.apply, (torch.ones(2, dtype=torch.float64, requires_grad=True),))"""),
     "comparison-assertion", "numerical_mismatch"),
    # ---- JAX (CPU only)
    ("jax-device-put-gpu", "jax", "jax.device_put(jnp.ones(2), jax.devices('gpu')[0])", "device-unavailable", "other"),
    ("jax-devices-tpu", "jax", "jax.devices('tpu')", "device-unavailable", "other"),
    ("jax-lgamma-int", "jax",
     "jax.lax.lgamma(jnp.ones(2, dtype=jnp.int32))",
     "dtype-kind-required", "dtype_unsupported"),
    ("jax-sin-bool", "jax", "jax.lax.sin(jnp.ones(2, dtype=bool))", "dtype-kind-required", "dtype_unsupported"),
    ("jax-normal-int", "jax",
     "jax.random.normal(jax.random.PRNGKey(0), (2,), dtype=jnp.int32)",
     "dtype-kind-required", "dtype_unsupported"),
    ("jax-str-dtype", "jax", "jnp.ones(2, dtype='U')", "dtype-kind-required", "dtype_unsupported"),
    ("jax-lax-add-mixed", "jax",
     "jax.lax.add(jnp.ones(2, dtype=jnp.int32), jnp.ones(2))",
     "dtype-mismatch", "dtype_unsupported"),
    ("jax-x64-disabled", "jax",
     "warnings.simplefilter('error')\njnp.ones(2, dtype=jnp.float64)",
     "x64-dtype", "dtype_unsupported"),
    ("jax-cpu-oom", "jax", "jnp.ones((2**20, 2**20, 2**10)).block_until_ready()", "xla-resource-exhausted", "memory"),
    ("jax-mlir-rule-missing", "jax", textwrap.dedent("""\
        from jax.interpreters import mlir
        try:
            from jax.extend.core import Primitive
        except ImportError:
            from jax.core import Primitive
        p = Primitive('gpu_only_op')
        p.def_impl(lambda x: x)
        p.def_abstract_eval(lambda x: x)
        mlir.register_lowering(p, mlir.lower_fun(lambda x: x, multiple_results=False), platform='cuda')
        jax.jit(p.bind)(jnp.ones(2))"""),
     "jax-mlir-rule-missing", "not_implemented"),
    ("jax-ffi-missing-handler", "jax",
     "jax.jit(lambda x: jax.ffi.ffi_call('no_such_target', jax.ShapeDtypeStruct((2,), jnp.float32))(x))(jnp.ones(2))",
     "xla-no-custom-call-handler", "not_implemented"),
    ("jax-dot-precision-cpu", "jax",
     "x = jnp.ones((4, 4))\njnp.dot(x, x, precision=jax.lax.DotAlgorithmPreset.TF32_TF32_F32)",
     "only-on-device", "not_implemented"),
    # ---- TensorFlow (CPU only, soft placement off)
    ("tf-gpu-absent", "tensorflow",
     "with tf.device('/GPU:0'):\n    tf.add(tf.ones(2), tf.ones(2))",
     "device-unavailable", "other"),
    ("tf-graph-gpu-absent", "tensorflow", textwrap.dedent("""\
        g = tf.Graph()
        with g.as_default():
            with tf.device('/GPU:0'):
                y = tf.strings.length(tf.constant(['a']))
        with tf.compat.v1.Session(graph=g, config=tf.compat.v1.ConfigProto(allow_soft_placement=False)) as s:
            s.run(y)"""),
     "device-unavailable", "other"),
    ("tf-function-gpu-absent", "tensorflow", textwrap.dedent("""\
        @tf.function
        def f(x):
            with tf.device('/GPU:0'):
                return tf.strings.length(x)
        f(tf.constant(['ab']))"""),
     "device-unavailable", "other"),
    ("tf-lgamma-int", "tensorflow", "tf.math.lgamma(tf.constant([1, 2]))", "tf-attr-not-allowed", "dtype_unsupported"),
    ("tf-matmul-int8", "tensorflow",
     "tf.linalg.matmul(tf.ones((2, 2), dtype=tf.int8), tf.ones((2, 2), dtype=tf.int8))",
     "tf-attr-not-allowed", "dtype_unsupported"),
    ("tf-cholesky-int", "tensorflow",
     "tf.linalg.cholesky(tf.ones((2, 2), dtype=tf.int32))",
     "tf-attr-not-allowed", "dtype_unsupported"),
    ("tf-add-mixed", "tensorflow",
     "tf.add(tf.ones(2), tf.ones(2, dtype=tf.float64))",
     "dtype-mismatch", "dtype_unsupported"),
    ("tf-igamma-bf16-eager", "tensorflow",
     "tf.math.igamma(tf.constant([1.0], dtype=tf.bfloat16), tf.constant([1.0], dtype=tf.bfloat16))",
     "tf-kernel-attrs-mismatch", "dtype_unsupported"),
    ("tf-igamma-bf16-graph", "tensorflow", textwrap.dedent("""\
        g = tf.Graph()
        with g.as_default():
            a = tf.constant([1.0], dtype=tf.bfloat16)
            y = tf.raw_ops.Igamma(a=a, x=a)
        with tf.compat.v1.Session(graph=g) as s:
            s.run(y)"""),
     "tf-kernel-attrs-mismatch", "dtype_unsupported"),
    ("tf-xla-string-arg", "tensorflow",
     "tf.function(tf.strings.length, jit_compile=True)(tf.constant(['ab']))",
     "tf-kernel-attrs-mismatch", "dtype_unsupported"),
    ("tf-xla-eig", "tensorflow",
     "tf.function(tf.linalg.eig, jit_compile=True)(tf.ones((2, 2)))",
     "tf-no-kernel", "not_implemented"),
    ("tf-conv2d-nchw-cpu", "tensorflow",
     "tf.nn.conv2d(tf.ones((1, 1, 3, 3)), tf.ones((2, 2, 1, 1)), strides=1, padding='VALID', data_format='NCHW')",
     "only-on-device", "not_implemented"),
    ("tf-depthwise-nchw-cpu", "tensorflow",
     "tf.nn.depthwise_conv2d(tf.ones((1, 1, 3, 3)), tf.ones((2, 2, 1, 1)), strides=[1, 1, 1, 1], padding='VALID',"
     " data_format='NCHW')",
     "only-on-device", "not_implemented"),
    ("tf-conv3d-ncdhw-cpu", "tensorflow",
     "tf.nn.conv3d(tf.ones((1, 1, 3, 3, 3)), tf.ones((2, 2, 2, 1, 1)), strides=[1, 1, 1, 1, 1], padding='VALID',"
     " data_format='NCDHW')",
     "only-on-device", "not_implemented"),
    ("tf-avgpool-nchw-cpu", "tensorflow",
     "tf.nn.avg_pool2d(tf.ones((1, 1, 3, 3)), 2, 1, 'VALID', data_format='NCHW')",
     "only-on-device", "not_implemented"),
    ("tf-cpu-oom", "tensorflow", "tf.zeros([2**40, 2**10])", "tf-oom", "memory"),
    # ---- Python / numpy
    ("python-subprocess-timeout", "python",
     "import subprocess\nsubprocess.run(['sleep', '5'], timeout=0.1)",
     "timeout-exception", "timeout"),
    ("python-bytearray-memoryerror", "python", "bytearray(2**62)", "python-memory-error", "memory"),
    ("numpy-assert-allclose", "python",
     "import numpy\nnumpy.testing.assert_allclose([1.0, 2.0], [1.0, 2.5])",
     "comparison-assertion", "numerical_mismatch"),
    ("unittest-assert-less", "python",
     "import unittest\nunittest.TestCase().assertLess(0.99609375, 0.0006)",
     "comparison-assertion", "numerical_mismatch"),
]

# Workers that really die: (id, argv, expected rule, expected category)
DYING: list[tuple[str, list[str], str, str]] = [
    ("dead-segfault", [sys.executable, "-X", "faulthandler", "-c", "import ctypes; ctypes.string_at(0)"],
     "dead-worker",
     "crash"),
    ("dead-jax-oom-ulimit",
     ["bash", "-c", "ulimit -v 2000000; exec " + sys.executable
      + " -c 'import jax.numpy as j; j.ones((2**28, 4)).block_until_ready()'"],
     "dead-worker-out-of-memory",
     "memory"),
]

BAD_ALLOC_CPP = (
    "#include <cstddef>\n#include <vector>\nint main(){ std::vector<char> v; v.reserve((size_t)1 << 62); return 0; }\n"
)


def _run_raising(framework: str, code: str) -> dict:
    body = textwrap.indent(code, "    ")
    src = PRELUDE[framework] + RUNNER.format(body=body)
    proc = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("@@JSON@@"):
            return json.loads(line[len("@@JSON@@"):])
    raise RuntimeError(f"no result: rc={proc.returncode} stderr={proc.stderr[-2000:]}")


def main() -> None:
    out = []
    for fid, fw, code, rule, cat in RAISING:
        res = _run_raising(fw, code)
        if not res["raised"]:
            print(f"SKIP {fid}: did not raise on {res['version']}", file=sys.stderr)
            continue
        msg = res["message"]
        note = ""
        if len(msg) > MAX_CHARS:
            msg, note = msg[:MAX_CHARS], f" (message cut at {MAX_CHARS} chars)"
        out.append({
            "id": fid, "expected_rule": rule, "expected_category": cat,
            "exc_type": res["exc_type"], "message": msg,
            "source": f"{res['version']} on CPU (Linux), produced by running: {code}{note}",
        })
    for fid, argv, rule, cat in DYING:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        out.append({
            "id": fid, "expected_rule": rule, "expected_category": cat,
            "exit_status": proc.returncode, "stderr_tail": proc.stderr[-MAX_CHARS:],
            "source": f"subprocess exit status and stderr of: {' '.join(argv)}",
        })
    # C++ std::bad_alloc (libstdc++ verbose terminate handler)
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        src = Path(d, "ba.cpp")
        src.write_text(BAD_ALLOC_CPP)
        subprocess.run(["g++", str(src), "-o", str(Path(d, "ba"))], check=True)
        proc = subprocess.run([str(Path(d, "ba"))], capture_output=True, text=True)
    out.append({
        "id": "dead-cpp-bad-alloc", "expected_rule": "dead-worker-bad-alloc", "expected_category": "memory",
        "exit_status": proc.returncode, "stderr_tail": proc.stderr,
        "source": "g++/libstdc++ program reserving 2**62 bytes; exit status and stderr as run here",
    })
    Path(HERE, "live_messages.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out)} fixtures")


if __name__ == "__main__":
    main()
