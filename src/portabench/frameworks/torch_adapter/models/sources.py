"""Where model architectures come from (worker side: imports torch and the model libraries).

A model is named ``<source>:<name>``:

* ``hf:<model_type>`` -- a ``transformers`` base model (``AutoModel``) built from its
  config class's defaults, shrunk to a tiny size (:func:`tiny_hf_config`: 2 layers,
  width 32, 4 heads, vocabulary 512, dropout off);
* ``timm:<name>`` -- an architecture of ``timm``'s registry (``timm.create_model``,
  ``pretrained=False``, input size from its ``pretrained_cfg``);
* ``tv:<name>`` -- a classification architecture of ``torchvision.models``
  (``weights=None``, 224x224 inputs);
* ``py:<module>:<factory>`` -- a user factory: ``factory(batch)`` returns
  ``(model, inputs)``, inputs a tensor, a tuple of positional arguments or a dict of
  keyword arguments (see docs/cases.md, "Whole models").

Everything is random-initialised under a fixed seed; no weights are fetched (the
hubs are set offline before the libraries are imported). A :class:`BuiltModel`
holds the CPU model and a function that makes the inputs for a batch size,
deterministically, so every device gets the same weights and the same inputs.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

#: the seed every model is initialised with
BUILD_SEED = 0
#: sequence length of token inputs
SEQ_LEN = 16
#: input kinds of transformers models that portabench can make inputs for
HF_INPUTS = ("input_ids", "pixel_values")

#: config attributes set on every transformers config (when present), to make the model tiny
HF_SHRINK: dict[str, int] = {
    "num_hidden_layers": 2, "num_layers": 2, "n_layer": 2, "n_layers": 2, "num_encoder_layers": 2,
    "num_decoder_layers": 2, "encoder_layers": 2, "decoder_layers": 2,
    "hidden_size": 32, "d_model": 32, "n_embd": 32, "dim": 32, "embed_dim": 32,
    "num_attention_heads": 4, "n_head": 4, "n_heads": 4, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 8, "kv_channels": 8, "num_heads": 4, "d_kv": 8,
    "intermediate_size": 64, "ffn_dim": 64, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "d_ff": 64, "n_inner": 64,
    "hidden_dim": 64, "vocab_size": 512, "max_position_embeddings": 64, "n_positions": 64,
    "image_size": 32, "patch_size": 8, "num_experts": 4, "num_local_experts": 4, "moe_intermediate_size": 32,
}
#: token-id attributes that must stay inside the shrunk vocabulary
HF_TOKEN_IDS = ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id",
                "decoder_start_token_id", "unk_token_id", "mask_token_id")


class ModelNotFound(LookupError):
    """The model name names no architecture of an installed source."""


@dataclass
class BuiltModel:
    """A model on the CPU, in eval mode, and the inputs it takes.

    ``make_inputs(batch)`` returns ``(args, kwargs)`` on the CPU, the same for the same
    batch on every call and in every process.
    """

    name: str
    model: torch.nn.Module
    make_inputs: Callable[[int], tuple[tuple[Any, ...], dict[str, Any]]]


@dataclass(frozen=True)
class ModelEntry:
    """One architecture of the catalog: its name, family (for stratified sampling) and size class."""

    name: str
    family: str
    size: str  # small | medium | large (from the name; tiny configs of transformers are "small")


def _generator(batch: int) -> torch.Generator:
    return torch.Generator().manual_seed(1000 + batch)


def _images(batch: int, shape: tuple[int, int, int]) -> torch.Tensor:
    return torch.randn((batch, *shape), generator=_generator(batch))


# ----------------------------------------------------------------------------- transformers
def _shrink(config: Any) -> None:
    """Shrink a transformers config in place (nested sub-configs too)."""
    from transformers import PretrainedConfig

    for key, value in list(vars(config).items()):
        if isinstance(value, PretrainedConfig):
            _shrink(value)
        elif key in HF_SHRINK and isinstance(value, int) and not isinstance(value, bool):
            setattr(config, key, min(value, HF_SHRINK[key]) if key != "head_dim" else HF_SHRINK[key])
        elif ("dropout" in key or "drop_path" in key or key.endswith("_pdrop")) and isinstance(value, float):
            setattr(config, key, 0.0)
        elif key in ("layer_types", "block_types") and isinstance(value, list):
            setattr(config, key, value[:2])
    vocab = getattr(config, "vocab_size", None)
    if isinstance(vocab, int):
        for key in HF_TOKEN_IDS:
            token = getattr(config, key, None)
            if isinstance(token, int) and token >= vocab:
                setattr(config, key, vocab - 1 - HF_TOKEN_IDS.index(key))


def tiny_hf_config(model_type: str) -> Any:
    """The default config of ``model_type``, shrunk (see :data:`HF_SHRINK`)."""
    from transformers import CONFIG_MAPPING

    if model_type not in CONFIG_MAPPING:
        raise ModelNotFound(f"transformers {_version('transformers')} has no model type {model_type!r}")
    config = CONFIG_MAPPING[model_type]()
    _shrink(config)
    config.use_cache = False
    return config


def _hf_class(model_type: str) -> type:
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    names = MODEL_MAPPING_NAMES.get(model_type)
    if names is None:
        raise ModelNotFound(f"transformers {transformers.__version__} has no base model for {model_type!r}")
    return getattr(transformers, str(names[0] if isinstance(names, (list, tuple)) else names))


def _build_hf(model_type: str) -> BuiltModel:
    cls = _hf_class(model_type)
    config = tiny_hf_config(model_type)
    main_input = getattr(cls, "main_input_name", "input_ids")
    if main_input not in HF_INPUTS:
        raise NotImplementedError(f"{cls.__name__} takes {main_input!r}; portabench makes only {', '.join(HF_INPUTS)}")
    model = cls(config).eval()
    params = inspect.signature(model.forward).parameters
    vocab = int(getattr(config, "vocab_size", None) or getattr(getattr(config, "text_config", None), "vocab_size", None) or 512)

    def make_inputs(batch: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if main_input == "pixel_values":
            vision = getattr(config, "vision_config", None) or config
            size = getattr(vision, "image_size", 32)
            size = int(size[0] if isinstance(size, (list, tuple)) else size)
            channels = int(getattr(vision, "num_channels", 3))
            return (), {"pixel_values": _images(batch, (channels, size, size))}
        ids = torch.randint(0, vocab, (batch, SEQ_LEN), generator=_generator(batch))
        kwargs: dict[str, Any] = {"input_ids": ids}
        if "decoder_input_ids" in params:
            kwargs["decoder_input_ids"] = ids
        return (), kwargs

    return BuiltModel(f"hf:{model_type}", model, make_inputs)


def _hf_catalog() -> list[ModelEntry]:
    try:
        from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES
    except ImportError:
        return []
    return [ModelEntry(f"hf:{t}", f"hf:{t.split('_')[0]}", "small") for t in sorted(MODEL_MAPPING_NAMES)]


# ----------------------------------------------------------------------------- timm / torchvision
def _size_class(name: str) -> str:
    """small | medium | large, from the tokens of an architecture name (a heuristic, documented as such)."""
    tokens = set(re.split(r"[_\-.]", name.lower()))
    if tokens & {"atto", "femto", "pico", "nano", "tiny", "small", "s", "xs", "xxs", "mobile", "lite", "micro", "t"} \
            or re.search(r"(^|[a-z])(18|10|14|26|0[0-9]{2})($|[_a-z])", name) or "mobilenet" in name or "_b0" in name:
        return "small"
    if tokens & {"large", "huge", "giant", "gigantic", "xl", "xxl", "l", "h", "g", "e"} or re.search(r"(101|152|200|269)", name):
        return "large"
    return "medium"


def _timm_catalog() -> list[ModelEntry]:
    try:
        import timm
    except ImportError:
        return []
    try:
        from timm.models import _registry

        modules = dict(getattr(_registry, "_model_to_module", {}))
    except ImportError:  # another timm layout: families from the names
        modules = {}
    return [ModelEntry(f"timm:{n}", "timm:" + str(modules.get(n) or re.split(r"[_\d]", n)[0]), _size_class(n))
            for n in timm.list_models()]


def _build_timm(name: str) -> BuiltModel:
    import timm

    if not timm.is_model(name):
        raise ModelNotFound(f"timm {timm.__version__} has no architecture {name!r}")
    model = timm.create_model(name, pretrained=False).eval()
    cfg = getattr(model, "pretrained_cfg", None) or {}
    shape = tuple(cfg.get("input_size") or (3, 224, 224))
    return BuiltModel(f"timm:{name}", model, lambda batch: ((_images(batch, shape),), {}))


def _tv_catalog() -> list[ModelEntry]:
    try:
        import torchvision.models as tvm
    except ImportError:
        return []
    return [ModelEntry(f"tv:{n}", "tv:" + re.split(r"[_\d]", n)[0], _size_class(n)) for n in tvm.list_models(module=tvm)]


def _build_tv(name: str) -> BuiltModel:
    import torchvision.models as tvm

    if name not in tvm.list_models(module=tvm):
        raise ModelNotFound(f"torchvision has no classification architecture {name!r}")
    kwargs: dict[str, Any] = {"weights": None}
    if name == "inception_v3" or name == "googlenet":
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = True
    model = tvm.get_model(name, **kwargs).eval()
    size = 299 if name == "inception_v3" else 224
    return BuiltModel(f"tv:{name}", model, lambda batch: ((_images(batch, (3, size, size)),), {}))


# ----------------------------------------------------------------------------- user factories
def _build_py(target: str) -> BuiltModel:
    module_name, _, attr = target.rpartition(":")
    if not module_name or not attr:
        raise ModelNotFound(f"a user model is named py:<module>:<factory>, not py:{target}")
    factory = getattr(importlib.import_module(module_name), attr)
    probe_model, _ = factory(1)

    def make_inputs(batch: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        torch.manual_seed(1000 + batch)
        _, inputs = factory(batch)
        if isinstance(inputs, dict):
            return (), dict(inputs)
        return (tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)), {}

    return BuiltModel(f"py:{target}", probe_model.eval(), make_inputs)


BUILDERS: dict[str, Callable[[str], BuiltModel]] = {"hf": _build_hf, "timm": _build_timm, "tv": _build_tv, "py": _build_py}
CATALOGS: dict[str, Callable[[], list[ModelEntry]]] = {"hf": _hf_catalog, "timm": _timm_catalog, "tv": _tv_catalog}


def build_model(name: str) -> BuiltModel:
    """Build ``name`` on the CPU under :data:`BUILD_SEED` (raise :class:`ModelNotFound` for an unknown one)."""
    source, _, rest = name.partition(":")
    if source not in BUILDERS or not rest:
        raise ModelNotFound(f"unknown model {name!r} (sources: {', '.join(f'{s}:NAME' for s in BUILDERS)})")
    torch.manual_seed(BUILD_SEED)
    return BUILDERS[source](rest)


def catalog() -> list[ModelEntry]:
    """Every architecture of the installed sources (timm, torchvision, transformers)."""
    return [entry for make in CATALOGS.values() for entry in make()]


def _version(module: str) -> str:
    try:
        return importlib.import_module(module).__version__
    except Exception:
        return "?"
