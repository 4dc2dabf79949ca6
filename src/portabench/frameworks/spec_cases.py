"""Worker-side use of declarative specs (:mod:`portabench.specs`), shared by every adapter.

An adapter that supports specs implements two hooks:
``from_numpy(values, dtype, device)`` (an :class:`~portabench.specs.ArrayInput`
to a framework array on ``device``) and ``spec_namespace(device, dtype)`` (the
names ``setup``/``call`` code can use).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from portabench.cases import CaseDescriptor
from portabench.specs import ArrayInput, SpecFunction, generate_inputs

if TYPE_CHECKING:
    from portabench.frameworks.base import Prepared


class SpecHost(Protocol):
    def from_numpy(self, array: ArrayInput, device: str) -> Any: ...
    def spec_namespace(self, device: str, dtype: str) -> dict[str, Any]: ...


def spec_descriptors(spec_fns: list[SpecFunction], dtypes: list[str], mode: str | None = None,
                     extra: Mapping[str, Any] | None = None) -> list[CaseDescriptor]:
    """Descriptors for the spec functions' cases in the requested dtypes (a dtype-less spec always runs).

    With ``mode``, only cases that run in that mode (:meth:`SpecFunction.runs_in`); ``extra`` is added
    to every case's ``extra``. Every case of a function is listed: each is its own source with one
    sample, so ``max_samples`` does not cut them.
    """
    out = []
    for fn in spec_fns:
        chosen = ["none"] if list(fn.dtypes) == ["none"] else [d for d in fn.dtypes if d in dtypes]
        for dtype in chosen:
            for index, case in enumerate(fn.cases):
                if mode is not None and not fn.runs_in(mode, case):
                    continue
                out.append(CaseDescriptor(
                    function=fn.name, source=f"spec:{fn.file.split('/')[-1]}#{case.name}", dtype=dtype, sample=index,
                    random=fn.random, extra={"spec_file": fn.file, "any_device": fn.any_device, **(extra or {})},
                ))
    return out


def spec_call(host: SpecHost, fn: SpecFunction, case: CaseDescriptor, device: str) -> tuple[Any, tuple[Any, ...]]:
    """Build the case's inputs on ``device``, run the setup code; return ``(function, inputs)``.

    ``function(*inputs)`` evaluates the case's ``call`` expression; the inputs
    (after setup, which may rebind them) are its arguments, not globals, so a
    compiler sees them as inputs (``torch.compile``, ``torch.export``).
    """
    spec_case = fn.cases[case.sample]
    generated = generate_inputs(spec_case, case.case_id, case.dtype)
    namespace = dict(host.spec_namespace(device, case.dtype))
    for name, value in generated.items():
        namespace[name] = host.from_numpy(value, device) if isinstance(value, ArrayInput) else value
    for code in (fn.setup, spec_case.setup):
        if code:
            exec(compile(code, fn.file, "exec"), namespace)
    names = [n for n in generated if n.isidentifier()]
    function = eval(compile(f"lambda {', '.join(names)}: ({spec_case.call}\n)", fn.file, "eval"), namespace)
    return function, tuple(namespace[n] for n in names)


def prepare_spec_case(host: SpecHost, fn: SpecFunction, case: CaseDescriptor, device: str) -> Prepared:
    """Build the case's inputs on ``device``, run the setup code, and return the call."""
    from portabench.frameworks.base import Prepared  # base imports this module (spec_descriptors)

    function, inputs = spec_call(host, fn, case, device)
    return Prepared(call=lambda: function(*inputs))
