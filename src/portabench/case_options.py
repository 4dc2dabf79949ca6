"""How a run treats its cases: :class:`CaseOptions`, with every default written once.

The library (``study``, ``selection``, ``coverage``, the runner's ``RunRequest``)
takes this dataclass, never an argparse namespace; ``commands/options.py`` builds
it from the command line (splitting ``--dtypes``, checking values). The defaults
here are the only place they are written: the CLI's help and defaults and
``RunRequest``'s field defaults read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from portabench.cases import DEFAULT_DTYPES, DEFAULT_MAX_SAMPLES
from portabench.frameworks.timer import TimingConfig

#: seconds a case may take before its worker is killed (``--timeout``)
DEFAULT_TIMEOUT_S = 60.0
#: compiled modes: extra seconds of each case's deadline for its first compile (``--compile-timeout``)
DEFAULT_COMPILE_TIMEOUT_S = 300.0
#: the timing loop's defaults (``--repeats``, ``--time-budget``)
DEFAULT_TIMING = TimingConfig()

__all__ = ["DEFAULT_CASE_OPTIONS", "DEFAULT_COMPILE_TIMEOUT_S", "DEFAULT_MAX_SAMPLES", "DEFAULT_TIMEOUT_S",
           "DEFAULT_TIMING", "CaseOptions"]


@dataclass(frozen=True)
class CaseOptions:
    """The case options shared by ``run`` and ``study`` (and a cluster study's runs).

    ``dtypes`` are asked of the adapter (intersected with what the framework claims);
    ``specs`` are extra spec files; ``max_samples`` caps input samples per function,
    case source and dtype; ``timeout_s`` is each case's deadline, plus
    ``compile_timeout_s`` in a compiled mode; ``timing`` configures the timing loop of
    passing cases (``do_timing`` False skips it); ``workers`` None means one worker
    per device the device string covers; ``fullgraph`` makes a graph break fail a
    torch compile case.
    """

    dtypes: tuple[str, ...] = DEFAULT_DTYPES
    specs: tuple[str, ...] = ()
    max_samples: int = DEFAULT_MAX_SAMPLES
    timeout_s: float = DEFAULT_TIMEOUT_S
    timing: TimingConfig = DEFAULT_TIMING
    do_timing: bool = True
    workers: int | None = None
    compile_timeout_s: float = DEFAULT_COMPILE_TIMEOUT_S
    fullgraph: bool = False


#: the options of a run given none (a module-level value, usable as a default argument)
DEFAULT_CASE_OPTIONS = CaseOptions()
