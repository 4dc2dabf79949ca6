"""Running cases, parent side (never imports a framework, nor the worker package).

:mod:`process` (one worker process: spawn, request with a deadline, process-group kill),
:mod:`dispatch` (one run's cases over N worker processes, one per GPU by default),
:mod:`session` (the run loop writing the store, resume, ``query_worker``),
:mod:`install_hint` (a worker's missing module -> the pip command). Workers run
:mod:`portabench.worker`; both sides speak :mod:`portabench.protocol`.
"""
