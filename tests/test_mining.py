"""Tests of portabench.mining: alias resolution, method candidates, sources, the table format."""

from __future__ import annotations

import importlib.metadata
import json
import textwrap
from pathlib import Path

import pytest

from portabench.errors import PortabenchError
from portabench.mining import FORMAT, MiningResult, load_frequency_table, mine_sources


def write(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def mine_code(framework: str, tmp_path: Path, code: str) -> MiningResult:
    return mine_sources(framework, [str(write(tmp_path, "mod.py", code))])


# --- alias resolution -------------------------------------------------------------------------


def test_torch_aliases_resolve_to_qualified_names(tmp_path: Path) -> None:
    result = mine_code(
        "torch",
        tmp_path,
        """
        import torch as T
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch import nn as tnn
        from torch.optim import Adam
        T.add(1, 2)
        F.relu(x)
        torch.nn.functional.relu(x)
        nn.Linear(2, 3)
        tnn.Conv2d(1, 1, 3)
        Adam(params)
        """,
    )
    assert result.counts == {
        "torch.add": 1,
        "torch.nn.functional.relu": 2,
        "torch.nn.Linear": 1,
        "torch.nn.Conv2d": 1,
        "torch.optim.Adam": 1,
    }
    assert result.files_read == 1 and result.files_skipped == 0


def test_import_of_submodule_binds_only_the_top_package(tmp_path: Path) -> None:
    result = mine_code("torch", tmp_path, "import torch.nn\ntorch.nn.ReLU()\nnn.ReLU()\n")
    assert result.counts == {"torch.nn.ReLU": 1}  # bare `nn` is not bound by `import torch.nn`


def test_other_libraries_are_never_counted(tmp_path: Path) -> None:
    result = mine_code(
        "torch",
        tmp_path,
        """
        import numpy as np
        import torch
        from numpy import split
        np.split(a, 2)
        split(a, 2)
        torch.split(t, 2)
        """,
    )
    assert result.counts == {"torch.split": 1}
    assert "Tensor.split" not in result.method_candidates  # np.split is not a method call on a value


def test_jax_aliases(tmp_path: Path) -> None:
    result = mine_code(
        "jax",
        tmp_path,
        """
        import jax
        import jax.numpy as jnp
        from jax import lax, random
        from jax.scipy.special import erf
        jnp.zeros(3)
        lax.cond(p, f, g)
        random.split(key)
        erf(x)
        jax.jit(f)
        """,
    )
    assert result.counts == {
        "jax.numpy.zeros": 1,
        "jax.lax.cond": 1,
        "jax.random.split": 1,
        "jax.scipy.special.erf": 1,
        "jax.jit": 1,
    }


def test_tensorflow_aliases_and_compat(tmp_path: Path) -> None:
    result = mine_code(
        "tensorflow",
        tmp_path,
        """
        import tensorflow as tf
        from tensorflow.keras import layers
        tf.math.add(a, b)
        layers.Dense(3)
        """,
    )
    assert result.counts == {"tensorflow.math.add": 1, "tensorflow.keras.layers.Dense": 1}

    assigned = mine_code("tensorflow", tmp_path, "import tensorflow as tf\ntfkl = tf.keras.layers\ntfkl.Conv2D(3, 3)\n")
    assert assigned.counts == {"tensorflow.keras.layers.Conv2D": 1}
    assert assigned.method_candidates == {}

    v1 = mine_code("tf", tmp_path, "import tensorflow.compat.v1 as tf\ntf.placeholder(tf.float32)\n")
    assert v1.framework == "tensorflow"
    assert v1.counts == {"tensorflow.compat.v1.placeholder": 1}

    v2 = mine_code("tensorflow", tmp_path, "import tensorflow.compat.v2 as tf\ntf.cast(x, 'int32')\n")
    assert v2.counts == {"tensorflow.cast": 1}  # compat.v2 is the TF2 API itself


def test_only_calls_count_and_nested_calls_are_found(tmp_path: Path) -> None:
    result = mine_code(
        "torch",
        tmp_path,
        """
        import torch
        act = torch.relu            # a reference, not a call
        @torch.no_grad()
        def f(x):
            return [torch.exp(v) for v in x]
        class M:
            def g(self):
                return (lambda: torch.exp(1))()
        @torch.jit.script
        def h(x): ...
        """,
    )
    assert result.counts == {"torch.no_grad": 1, "torch.exp": 2}


def test_function_level_imports_resolve_and_star_and_relative_imports_need_a_listing(tmp_path: Path) -> None:
    result = mine_code(
        "torch",
        tmp_path,
        """
        from torch import *
        from . import nn
        import torch
        def f(x):
            import torch.nn.functional as G
            return G.relu(x), relu(x), nn.Linear(1, 1)
        try:
            import torch.linalg as LA
        except ImportError:
            LA = None
        LA.norm(x)
        """,
    )
    # function-local imports and module-level try/except imports are resolved; without a listing the
    # star import binds nothing, and the relative import is never a framework
    assert result.counts == {"torch.linalg.norm": 1, "torch.nn.functional.relu": 1}
    assert "Tensor.relu" not in result.method_candidates


# --- method candidates ------------------------------------------------------------------------


def test_method_candidates(tmp_path: Path) -> None:
    result = mine_code(
        "torch",
        tmp_path,
        """
        import os
        import torch
        from ..utils import logging
        logger = logging.get_logger(__name__)
        class Net(torch.nn.Module):
            def forward(self, x):
                self.helper(x)
                super().forward(x)
                y = x.sum().view(-1)
                parts = []
                parts.append(y)
                os.path.join("a", "b")
                "".join(parts)
                Net.create()
                x._private()
                return torch.zeros(3).mean(), x.split(2)
        """,
    )
    assert result.method_candidates == {"Tensor.sum": 1, "Tensor.view": 1, "Tensor.split": 1}
    # the result of a framework function is likely a tensor: its method call is linked (inferred)
    assert result.counts == {"torch.zeros": 1, "torch.Tensor.mean": 1}


def test_method_candidates_need_a_framework_import(tmp_path: Path) -> None:
    result = mine_code("torch", tmp_path, "import numpy as np\nx = np.ones(3)\nx.sum()\n")
    assert result.method_candidates == {} and result.counts == {}


def test_method_owner_per_framework(tmp_path: Path) -> None:
    assert mine_code("jax", tmp_path, "import jax\nx.sum()\n").method_candidates == {"Array.sum": 1}
    assert mine_code("tensorflow", tmp_path, "import tensorflow as tf\nx.numpy()\n").method_candidates == {
        "Tensor.numpy": 1
    }


# --- sources ----------------------------------------------------------------------------------


def test_directory_counts_unparseable_files_as_skipped(tmp_path: Path) -> None:
    write(tmp_path, "pkg/good.py", "import torch\ntorch.ones(1)\n")
    write(tmp_path, "pkg/sub/also_good.py", "import torch\ntorch.ones(2)\n")
    write(tmp_path, "pkg/broken.py", "def f(:\n")
    (tmp_path / "pkg" / "nul.py").write_bytes(b"import torch\x00\n")
    (tmp_path / "pkg" / "latin1.py").write_bytes(b"import torch\nx = 'caf\xe9'\n")  # not UTF-8, no declaration
    (tmp_path / "pkg" / "declared.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport torch\nx = 'caf\xe9'\n")
    write(tmp_path, "pkg/notes.txt", "torch.ones(3)")
    done: list[int] = []
    result = mine_sources("torch", [str(tmp_path / "pkg")], progress=done.append)
    assert result.counts == {"torch.ones": 2}
    assert (result.files_read, result.files_skipped) == (3, 3)
    assert done == [1, 2, 3, 4, 5, 6]
    assert result.sources == [{"path": str(tmp_path / "pkg")}]


def test_unpacked_wheel_directory_is_named_by_its_dist_info(tmp_path: Path) -> None:
    write(tmp_path, "whl/mylib/core.py", "import jax.numpy as jnp\njnp.ones(1)\n")
    write(tmp_path, "whl/mylib-1.2.3.dist-info/METADATA", "Metadata-Version: 2.1\nName: mylib\nVersion: 1.2.3\n")
    result = mine_sources("jax", [str(tmp_path / "whl")])
    assert result.sources == [{"name": "mylib", "version": "1.2.3"}]
    assert result.counts == {"jax.numpy.ones": 1}


def test_jsonl_source(tmp_path: Path) -> None:
    rows = [
        {"repo_name": "a", "content": "import torch\ntorch.cat([x])\n"},
        {"repo_name": "b", "content": "import torch.nn as nn\nnn.ReLU()\ntorch.cat(y)\n"},
        {"repo_name": "c", "content": "def broken(:"},
        {"repo_name": "d"},
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n\n", encoding="utf-8")
    result = mine_sources("torch", [str(path)])
    assert result.counts == {"torch.cat": 1, "torch.nn.ReLU": 1}  # file b's bare `torch` is not imported
    assert (result.files_read, result.files_skipped) == (2, 3)


def test_parquet_source(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow", reason="parquet sources need pyarrow")
    path = tmp_path / "corpus.parquet"
    pd.DataFrame({"content": ["import jax\njax.grad(f)\n", "import jax\njax.grad(g)\n", None]}).to_parquet(path)
    result = mine_sources("jax", [str(path)])
    assert result.counts == {"jax.grad": 2}
    assert (result.files_read, result.files_skipped) == (2, 1)


def test_parquet_without_content_column(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow", reason="parquet sources need pyarrow")
    path = tmp_path / "other.parquet"
    pd.DataFrame({"text": ["x"]}).to_parquet(path)
    with pytest.raises(PortabenchError, match="content"):
        mine_sources("jax", [str(path)])


def test_dist_source_on_an_installed_distribution() -> None:
    # pytest itself imports nothing of torch; its files are real and listed in RECORD.
    dist = importlib.metadata.distribution("pytest")
    result = mine_sources("torch", ["dist:pytest"])
    assert result.sources == [{"name": dist.metadata["Name"], "version": dist.version}]
    assert result.files_read > 0
    assert result.counts == {}


def test_dist_source_reads_the_files_listed_in_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    write(site, "fakepkg/__init__.py", "import torch\ntorch.zeros(1)\n")
    write(site, "fakepkg/extra.py", "import torch.nn as nn\nnn.ReLU()\n")
    write(site, "fakepkg/unlisted.py", "import torch\ntorch.ones(1)\n")  # not in RECORD: not read
    write(site, "fakepkg-0.3.dist-info/METADATA", "Metadata-Version: 2.1\nName: fakepkg\nVersion: 0.3\n")
    write(
        site,
        "fakepkg-0.3.dist-info/RECORD",
        "fakepkg/__init__.py,,\nfakepkg/extra.py,,\nfakepkg-0.3.dist-info/METADATA,,\nfakepkg-0.3.dist-info/RECORD,,\n",
    )
    monkeypatch.syspath_prepend(str(site))
    result = mine_sources("torch", ["dist:fakepkg"])
    assert result.sources == [{"name": "fakepkg", "version": "0.3"}]
    assert result.counts == {"torch.zeros": 1, "torch.nn.ReLU": 1}
    assert result.files_read == 2


@pytest.mark.parametrize(
    "spec, message",
    [
        ("dist:surely-not-installed-xyz", "not installed"),
        ("dist:", "empty distribution"),
        ("/nonexistent/path/to/code", "does not exist"),
    ],
)
def test_bad_sources_raise_one_line_errors(spec: str, message: str) -> None:
    with pytest.raises(PortabenchError, match=message) as info:
        mine_sources("torch", [spec])
    assert "\n" not in str(info.value)


def test_unsupported_file_type_and_unknown_framework(tmp_path: Path) -> None:
    other = write(tmp_path, "data.csv", "a,b\n")
    with pytest.raises(PortabenchError, match="not a directory"):
        mine_sources("torch", [str(other)])
    with pytest.raises(PortabenchError, match="unknown framework"):
        mine_sources("mxnet", [str(tmp_path)])


def test_bad_source_fails_before_reading_anything(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "import torch\n")
    calls: list[int] = []
    with pytest.raises(PortabenchError):
        mine_sources("torch", [str(tmp_path), "/does/not/exist"], progress=calls.append)
    assert calls == []


# --- the table format -------------------------------------------------------------------------


def test_to_json_round_trips_through_load(tmp_path: Path) -> None:
    write(tmp_path, "src/a.py", "import torch\ntorch.ones(1)\ntorch.ones(2)\ntorch.add(a, b)\nx.view(1)\n")
    result = mine_sources("pytorch", [str(tmp_path / "src")])
    table = result.to_json()
    assert table["format"] == FORMAT and table["framework"] == "torch"
    assert table["generated_by"] == f"portabench mine --framework torch {tmp_path / 'src'}"
    assert list(table["counts"]) == ["torch.ones", "torch.add"]  # most used first
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table))
    loaded = load_frequency_table(str(path))
    assert loaded["counts"] == {"torch.ones": 2, "torch.add": 1}
    assert loaded["method_candidates"] == {"Tensor.view": 1}


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"format": "other/1", "framework": "torch", "counts": {}}', "unknown format"),
        ('{"format": "portabench-frequencies/1", "framework": "mxnet", "counts": {}}', "unknown framework"),
        ('{"format": "portabench-frequencies/1", "framework": "torch"}', "'counts'"),
        ('{"format": "portabench-frequencies/1", "framework": "torch", "counts": {"torch.add": -1}}', "non-negative"),
        ('{"format": "portabench-frequencies/1", "framework": "torch", "counts": {"torch.add": "3"}}', "non-negative"),
        ('{"format": "portabench-frequencies/1", "framework": "torch", "counts": {}, "sources": "x"}', "sources"),
    ],
)
def test_malformed_tables_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PortabenchError, match=message) as info:
        load_frequency_table(str(path))
    assert "\n" not in str(info.value)


def test_missing_table_and_unknown_name() -> None:
    with pytest.raises(PortabenchError, match="does not exist"):
        load_frequency_table("/no/such/table.json")
    with pytest.raises(PortabenchError, match="neither an existing file nor a framework"):
        load_frequency_table("mxnet")


@pytest.mark.parametrize("framework", ["torch", "jax", "tensorflow"])
def test_shipped_tables_load_and_name_their_sources(framework: str) -> None:
    table = load_frequency_table(framework)
    assert table["framework"] == framework
    assert table["sources"] and all({"name", "version"} <= set(s) for s in table["sources"])
    assert table["files_read"] > 100
    assert len(table["counts"]) > 200
    root = framework
    assert all(name.split(".", 1)[0] == root for name in table["counts"])
    counts = list(table["counts"].values())
    assert counts == sorted(counts, reverse=True)


def test_shipped_tables_reflect_well_known_usage() -> None:
    assert load_frequency_table("torch")["counts"]["torch.nn.Linear"] > 50
    assert load_frequency_table("jax")["counts"]["jax.numpy.zeros"] > 50
    assert load_frequency_table("tf")["counts"]["tensorflow.convert_to_tensor"] > 50
    assert load_frequency_table("torch")["method_candidates"]["Tensor.view"] > 50


# --- the resolver's rules, each from the construct it fixes (issue 15) -----------------------

LISTING_DIR = Path(__file__).parent / "data" / "api_listings"


def listing(framework: str):
    from portabench.mining.listing import ApiListing

    return ApiListing.load(LISTING_DIR / f"{framework}.json")


def sites_of(code: str, frameworks: tuple[str, ...] = ("torch", "jax", "tensorflow"), with_listing: bool = True):
    from portabench.mining.imports import Naming
    from portabench.mining.sites import analyze_source

    naming = Naming.for_frameworks(list(frameworks), {fw: listing(fw) if with_listing else None for fw in frameworks})
    return analyze_source(textwrap.dedent(code), "mod.py", naming)


def names(code: str, kind: str = "call", **kw) -> list[str]:
    return [s.name for s in sites_of(code, **kw).sites if s.kind == kind]


def test_import_error_fallback_does_not_replace_the_try_import() -> None:
    code = """
    try:
        from torch.amp import autocast
    except ImportError:
        from torch.cuda.amp import autocast
    try:
        import tensorflow.compat.v1 as tf
    except (ModuleNotFoundError, AttributeError):
        import tensorflow as tf
    autocast("cuda")
    tf.placeholder(tf.float32)
    """
    assert names(code) == ["torch.amp.autocast", "tensorflow.compat.v1.placeholder"]


def test_only_fallback_import_is_used_when_the_try_binds_nothing() -> None:
    assert names("try:\n    pass\nexcept ImportError:\n    import torch\ntorch.abs(x)\n") == ["torch.abs"]


def test_chains_through_values_are_not_framework_calls() -> None:
    code = """
    import torch
    import tensorflow as tf
    FLAGS = tf.compat.v1.flags.FLAGS
    FLAGS.model_dir.split("/")
    torch.__version__.split(".")
    torch.Tensor.shape.numel()
    torch.nn.Linear.weight.data.uniform_()
    torch.abs(x)
    tf.data.Dataset.from_tensor_slices(x)   # a static method of a class whose members are not listed
    """
    assert names(code) == ["torch.abs", "tensorflow.data.Dataset.from_tensor_slices"]
    # without a listing, private/dunder and constant-like components still rule a chain out
    assert names(code, with_listing=False) == [
        "torch.Tensor.shape.numel", "torch.nn.Linear.weight.data.uniform_", "torch.abs",
        "tensorflow.data.Dataset.from_tensor_slices"]


def test_names_shadowed_in_a_scope_are_not_the_import() -> None:
    code = """
    import torch.nn.functional as F
    from jax import random
    import jax.numpy as jnp

    def with_param(F, x):
        return F.relu(x)

    def with_local_import():
        import random
        return random.random()

    def with_local_def():
        def jnp():
            pass
        return jnp.ones(3)

    squares = [F.relu(F) for F in range(3)]
    lam = lambda random: random.normal()

    def uses_module_names(x):
        return F.gelu(x), random.normal(random.PRNGKey(0), (2,))
    """
    assert names(code) == ["torch.nn.functional.gelu", "jax.random.normal", "jax.random.PRNGKey"]


def test_names_read_in_an_assignment_target_are_not_bound() -> None:
    code = """
    import torch

    def f(mask, n):
        mask[(torch.arange(n), n - 1)] = 1
        out.weight[torch.argmax(mask)] = torch.zeros(1)
        return torch.ones(n)
    """
    assert names(code) == ["torch.arange", "torch.argmax", "torch.zeros", "torch.ones"]


def test_global_declaration_and_class_scope() -> None:
    code = """
    import torch

    class Config:
        torch = None
        def method(self):
            return torch.zeros(1)   # the class attribute is not in scope here

    def f():
        global torch
        return torch.ones(1)
    """
    assert names(code) == ["torch.zeros", "torch.ones"]


def test_function_local_imports_are_resolved_in_their_scope() -> None:
    code = """
    def f(x):
        import torch.nn.functional as G
        return G.softmax(x, -1)

    def g(x):
        return G.softmax(x, -1)   # G is not bound here
    """
    assert names(code) == ["torch.nn.functional.softmax"]


def test_decorators_and_values_are_their_own_kinds() -> None:
    code = """
    import jax
    import jax.numpy as jnp
    import tensorflow as tf
    import torch
    from torch import nn

    @jax.jit
    def f(x):
        return jax.tree.map(jnp.array, x)

    @tf.function
    def g(x):
        return x

    class M(nn.Module):
        @torch.jit.ignore
        def h(self, act_layer=nn.GELU):
            return act_layer()

    @torch.no_grad()
    def k(x):
        assert isinstance(x, torch.Tensor)   # a type check, not a use
        return Block(norm=nn.LayerNorm, dtype=torch.float32)
    """
    found = sites_of(code)
    decorators = [s.name for s in found.sites if s.kind == "decorator"]
    assert decorators == ["jax.jit", "tensorflow.function", "torch.jit.ignore"]
    assert [s.name for s in found.sites if s.kind == "value"] == [
        "jax.numpy.array",
        "torch.nn.GELU",
        "torch.nn.LayerNorm",
    ]
    assert [s.name for s in found.sites if s.kind == "call"] == ["jax.tree.map", "torch.no_grad"]


def test_flax_and_standalone_keras_are_followed_to_the_framework() -> None:
    code = """
    import flax.linen as nn
    from flax import nnx
    import keras
    from keras import layers

    x = nn.relu(nn.Dense(3)(x))
    y = nnx.gelu(x)
    init = nn.initializers.zeros
    nn.Dense(3, kernel_init=nn.initializers.lecun_normal())
    keras.layers.Dense(3)
    layers.Conv2D(8, 3)
    """
    jax_sites = sites_of(code, frameworks=("jax",)).sites
    assert [(s.name, s.resolution) for s in jax_sites if s.kind == "call"] == [
        ("jax.nn.relu", "reexport"),
        ("jax.nn.gelu", "reexport"),
        ("jax.nn.initializers.lecun_normal", "reexport"),
    ]
    tf_sites = sites_of(code, frameworks=("tensorflow",)).sites
    assert [s.name for s in tf_sites if s.kind == "call"] == [
        "tensorflow.keras.layers.Dense",
        "tensorflow.keras.layers.Conv2D",
    ]


def test_tensorflow_aliases_are_canonical_and_prefixes_not_doubled() -> None:
    code = """
    import tensorflow as tf
    import tensorflow.compat.v1 as tf1
    tf.reduce_sum(x)
    tf.math.reduce_sum(x)
    tf.add(x, y)
    tf1.compat.v1.placeholder(tf.float32)
    tf.compat.v2.cast(x, tf.int32)
    """
    assert names(code) == [
        "tensorflow.math.reduce_sum",
        "tensorflow.math.reduce_sum",
        "tensorflow.math.add",
        "tensorflow.compat.v1.placeholder",
        "tensorflow.cast",
    ]


def test_star_imports_resolve_through_the_listing() -> None:
    code = """
    from torch.nn.functional import *
    from jax.numpy import *
    relu(x)
    mean(x)
    my_own_function(x)
    """
    assert names(code) == ["torch.nn.functional.relu", "jax.numpy.mean"]
    assert names(code, with_listing=False) == []  # without a listing, what * binds is unknown


def test_getattr_with_a_literal() -> None:
    code = """
    import torch
    getattr(torch, "cumsum")(x, 0)
    getattr(torch.nn.functional, "gelu")(x)
    getattr(torch, name)(x)
    getattr(torch, "__version__")
    """
    found = sites_of(code).sites
    assert [(s.name, s.resolution) for s in found] == [
        ("torch.cumsum", "getattr"),
        ("torch.nn.functional.gelu", "getattr"),
    ]


def test_method_calls_are_linked_when_the_receiver_type_is_known_or_likely() -> None:
    code = """
    import torch
    import jax.numpy as jnp

    def f(x: torch.Tensor, y):
        z = torch.zeros(3)
        a = jnp.ones(3)
        return x.transpose(0, 1), z.sum(), y.view(-1), a.mean(), x.T.abs(), torch.ones(2).float().exp()
    """
    found = [(s.name, s.resolution, s.covers) for s in sites_of(code).sites if s.kind == "method"]
    assert ("torch.Tensor.transpose", "annotation", ("torch.Tensor.transpose", "torch.transpose")) in found
    assert ("torch.Tensor.sum", "inferred", ("torch.Tensor.sum", "torch.sum")) in found
    assert ("jax.numpy.mean", "inferred", ("jax.numpy.mean",)) in found  # jax.Array methods are covered by jnp
    assert ("torch.Tensor.abs", "inferred", ("torch.Tensor.abs", "torch.abs")) in found  # x.T is a tensor
    assert ("torch.Tensor.exp", "inferred", ("torch.Tensor.exp", "torch.exp")) in found  # through .float()
    unresolved = {s.name for s in sites_of(code).sites if s.resolution == "unresolved"}
    assert {"Tensor.view", "Array.view"} <= unresolved  # y's type is unknown: a candidate per imported framework


def test_settings_and_device_strings_are_found() -> None:
    code = """
    import torch
    import jax
    import tensorflow as tf
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("high")
    jax.config.update("jax_enable_x64", True)
    tf.config.set_soft_device_placement(True)
    tf.keras.mixed_precision.set_global_policy("mixed_bfloat16")
    x = torch.ones(2, device="cuda:1").cuda()
    jax.devices("tpu")
    tf.device("/job:worker/replica:0/task:0/device:GPU:1")
    label = "gpu-count"   # not a device string
    """
    found = sites_of(code)
    assert [(s.name, s.value) for s in found.settings] == [
        ("torch.backends.cudnn.allow_tf32", "False"),
        ("torch.set_float32_matmul_precision", "'high'"),
        ("jax_enable_x64", "True"),
        ("tensorflow.config.set_soft_device_placement", "True"),
        ("tensorflow.keras.mixed_precision.set_global_policy", "'mixed_bfloat16'"),
    ]
    assert [d.device for d in found.devices] == [
        "cuda:1",
        ".cuda()",
        "tpu",
        "/job:worker/replica:0/task:0/device:GPU:1",
    ]


def test_indirect_uses_are_counted_apart_in_the_frequency_table(tmp_path: Path) -> None:
    code = "import jax\nimport jax.numpy as jnp\n@jax.jit\ndef f(x):\n    return jax.vmap(jnp.sin)(x)\n"
    result = mine_sources("jax", [str(write(tmp_path, "m.py", code))], listing=listing("jax"))
    assert result.counts == {"jax.vmap": 1}
    assert result.indirect == {"decorator": {"jax.jit": 1}, "value": {"jax.numpy.sin": 1}}
    table = result.to_json()
    assert table["indirect"] == {"decorator": {"jax.jit": 1}, "value": {"jax.numpy.sin": 1}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(table))
    assert load_frequency_table(path)["indirect"]["value"] == {"jax.numpy.sin": 1}


def test_process_pool_gives_the_same_counts_as_one_process(tmp_path: Path) -> None:
    for i in range(150):  # more than two chunks of 64 files
        write(
            tmp_path,
            f"pkg/m{i:03d}.py",
            f"import torch\nimport torch.nn.functional as F\n"
            f"def f{i}(x):\n    return F.relu(x).sum() + torch.ones({i}).mean()\n",
        )
    write(tmp_path, "pkg/broken.py", "def (:\n")
    one = mine_sources("torch", [str(tmp_path / "pkg")], workers=1)
    done: list[int] = []
    two = mine_sources("torch", [str(tmp_path / "pkg")], workers=2, progress=done.append)
    assert one.to_json() == two.to_json()
    assert two.counts["torch.nn.functional.relu"] == 150 and two.files_skipped == 1
    assert done[-1] == 151


def test_fetched_listings_are_cached_per_framework_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portabench.mining import listing as listing_module
    from portabench.runner import session

    version = listing_module.installed_version("jax")
    if version is None:
        pytest.skip("jax is not installed")
    monkeypatch.setenv("PORTABENCH_CACHE", str(tmp_path))
    saved = listing("jax")
    saved.version = version
    cached = tmp_path / "listings" / f"jax-{version}.json"
    cached.parent.mkdir(parents=True)
    cached.write_text(json.dumps(saved.to_json()))

    def no_worker(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached listing starts no worker")

    monkeypatch.setattr(session, "query_worker", no_worker)
    found = listing_module.fetch_listing("jax")
    assert found.version == version and found.kinds == saved.kinds
