"""Whole models as cases, on the parent side (no framework imported here).

* :mod:`.details` -- the structured details a model case stores in its result's message;
* :mod:`.selection` -- ``--models`` and the ``models`` / ``models-all`` presets.

The worker side (building, running, comparing, localising) lives with each
adapter: :mod:`portabench.frameworks.torch_adapter.models`.
"""

from portabench.models.names import MODEL_SOURCES, is_model_name

__all__ = ["MODEL_SOURCES", "is_model_name"]
