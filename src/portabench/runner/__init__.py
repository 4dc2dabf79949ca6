"""Running cases: the parent-side worker pool and run loop, and the worker itself.

Parent side (never imports a framework): :mod:`pool` (worker processes,
deadlines, process-group kills), :mod:`session` (the run loop writing the store).
Worker side: :mod:`worker` (the protocol loop), :mod:`execute` (one case:
reference, target, comparison, timing), :mod:`compare`, :mod:`timing`.
"""
