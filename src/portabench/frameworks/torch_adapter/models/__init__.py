"""Whole PyTorch models as cases (worker side): sources, the model case, and layer localisation.

Hooks into the adapter: :func:`split_model_names` separates model names
(``hf:gpt2``) from function names in ``list_cases``; :func:`model_descriptors`
lists each model's cases; :func:`run_model_case` runs one (called by
``worker/execute.py`` for sources ``model:...``); :func:`model_catalog` answers the
worker's ``list_models``.
"""

from __future__ import annotations

from portabench.frameworks.torch_adapter.models.case import model_descriptors, run_model_case
from portabench.frameworks.torch_adapter.models.sources import catalog as model_catalog
from portabench.models.names import split_model_names

#: batch sizes at which each model is run and timed ("real" batches)
MODEL_BATCHES = (8, 32)
#: the batch whose outputs and gradients are compared with the reference (the others are timed only)
COMPARED_BATCH = 8



__all__ = ["COMPARED_BATCH", "MODEL_BATCHES", "model_catalog", "model_descriptors", "run_model_case", "split_model_names"]
