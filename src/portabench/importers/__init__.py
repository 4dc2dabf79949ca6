"""Importers: bring data produced elsewhere into a portabench store as ordinary runs.

- :func:`import_paper` reads a clone of the paper's repository layout (``pytorch_timings/``,
  ``tensorflow_timings/``, ``jax_timings/``); see ``docs/paper-data-format.md``.
"""

from portabench.importers.paper import ImportSummary, import_paper

__all__ = ["ImportSummary", "import_paper"]
