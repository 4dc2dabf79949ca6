"""Whole PyTorch models as cases (worker side): sources, the model case, and layer localisation.

Hooks into the adapter: :func:`split_model_names` separates model names
(``hf:gpt2``) from function names in ``list_cases``; :func:`model_descriptors`
lists each model's cases; :func:`run_model_case` runs one (called by
``runner/execute.py`` for sources ``model:...``); :func:`model_catalog` answers the
worker's ``list_models``.
"""

from __future__ import annotations

from portabench.frameworks.torch_adapter.models.case import model_descriptors, run_model_case
from portabench.frameworks.torch_adapter.models.sources import catalog as model_catalog
from portabench.models.names import is_model_name

#: batch sizes at which each model is run and timed ("real" batches)
MODEL_BATCHES = (8, 32)
#: the batch whose outputs and gradients are compared with the reference (the others are timed only)
COMPARED_BATCH = 8


def split_model_names(names: list[str] | None) -> tuple[list[str] | None, list[str]]:
    """(function names, model names); None (every function) stays None, with no models."""
    if names is None:
        return None, []
    models = [n for n in names if is_model_name(n)]
    functions = [n for n in names if not is_model_name(n)]
    return (functions if functions or not models else []), models


__all__ = ["COMPARED_BATCH", "MODEL_BATCHES", "model_catalog", "model_descriptors", "run_model_case", "split_model_names"]
