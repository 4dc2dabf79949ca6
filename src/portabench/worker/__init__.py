"""Worker side: the code that runs inside a worker process, next to one framework adapter.

Never imported by the parent (:mod:`portabench.runner`), and it never imports the parent side;
both speak :mod:`portabench.protocol`. Modules: :mod:`loop` (the protocol loop, started as
``python -m portabench.worker``), :mod:`execute` (one case: reference, target, placement,
comparison, timing), :mod:`compare` (output comparison), :mod:`hygiene` (what a case left
behind), :mod:`lifeline` (the worker dies with its parent). The timing loop and the ``Timer``
contract live in :mod:`portabench.frameworks.timer`, next to the adapter contract.
"""
