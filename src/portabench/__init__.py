"""portabench: measure how portable ML frameworks are across hardware.

The package is layered; data flows one way:

``frameworks`` (adapters, imported only inside worker processes) -> ``runner``
(parent-side worker pool and deadlines) -> ``taxonomy`` (failure categories) ->
``store`` (SQLite, versioned) -> ``analysis`` (tables and intervals) -> ``report``.
``mining`` and ``sampling`` produce the function manifests the runner consumes,
and ``cli`` is a thin adapter over these library functions.
"""

__version__ = "0.1.0"
