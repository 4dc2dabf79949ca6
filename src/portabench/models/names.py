"""How model names are spelled: ``<source>:<name>`` (framework-free, used on both sides)."""

from __future__ import annotations

#: source prefix -> what it names
MODEL_SOURCES: dict[str, str] = {
    "hf": "a transformers model type (tiny config)",
    "timm": "a timm architecture",
    "tv": "a torchvision.models classification architecture",
    "py": "a user factory module:function",
    "keras": "a keras.applications architecture (tensorflow), optionally @SIZE",
}
#: the framework of each source (``py:`` models are PyTorch factories)
SOURCE_FRAMEWORKS: dict[str, str] = {"hf": "torch", "timm": "torch", "tv": "torch", "py": "torch", "keras": "tensorflow"}

#: the case source prefix of model cases (``model:forward@8``)
MODEL_CASE_PREFIX = "model:"


def is_model_name(name: str) -> bool:
    """True for ``hf:gpt2``, ``timm:resnet50``, ``tv:resnet18``, ``py:pkg.mod:factory``."""
    source, sep, rest = name.partition(":")
    return bool(sep) and source in MODEL_SOURCES and bool(rest)


def model_framework(name: str) -> str | None:
    """The framework a model name belongs to (``keras:ResNet50`` -> tensorflow), None if not a model name."""
    return SOURCE_FRAMEWORKS.get(name.partition(":")[0]) if is_model_name(name) else None


def is_model_case(source: str) -> bool:
    """True for the ``source`` of a model case (``model:train@8``)."""
    return source.startswith(MODEL_CASE_PREFIX)


def split_model_names(names: list[str] | None) -> tuple[list[str] | None, list[str]]:
    """(function names, model names); None (every function) stays None, with no models."""
    if names is None:
        return None, []
    models = [n for n in names if is_model_name(n)]
    functions = [n for n in names if not is_model_name(n)]
    return (functions if functions or not models else []), models
