"""The scan's readable summary: the answer first, then the details.

Example (first lines)::

    12 distinct functions at 19 call sites in 4 files (torch, jax, tensorflow); 6 method calls on values of unknown type
    cuda: 5 tested (3 portable, 1 partial, 1 failing), 7 untested
      failing  torch.nn.functional.gelu (not_implemented) at train.py:12, train.py:30: "..."
"""

from __future__ import annotations

from portabench.scan.model import (
    BROKEN,
    FAILING,
    NO_CASES,
    PARTIAL,
    PORTABLE,
    UNTESTED,
    ScanResult,
)

MAX_LOCATIONS = 3
MAX_MESSAGE = 100


def _where(sites: list) -> str:
    shown = ", ".join(f"{s.path}:{s.line}" for s in sites[:MAX_LOCATIONS])
    return shown + (f" (+{len(sites) - MAX_LOCATIONS} more)" if len(sites) > MAX_LOCATIONS else "")


def _short(message: str | None) -> str:
    if not message:
        return ""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def headline(result: ScanResult) -> str:
    """``N distinct functions at M call sites in F files (...)``."""
    functions = result.functions()
    n_sites = sum(len(v) for v in functions.values())
    frameworks = ", ".join(result.frameworks) or "no framework"
    line = f"{len(functions)} distinct functions at {n_sites} call sites in {result.files} files ({frameworks})"
    if result.unresolved_sites:
        line += f"; {len(result.unresolved_sites)} method calls on values of unknown type (unresolved)"
    return line


def device_line(result: ScanResult, device: str) -> tuple[str, list[str]]:
    """The per-device summary line and the lines of its failing/partial/broken functions."""
    counts = {s: 0 for s in (PORTABLE, PARTIAL, FAILING, BROKEN, UNTESTED, NO_CASES)}
    order = {FAILING: 0, PARTIAL: 1, BROKEN: 2}
    details: list[tuple[int, str]] = []
    for key, sites in result.functions().items():
        if not result.applies(key[0], device):
            continue
        verdict = result.function_status(key, device)
        counts[verdict.status] += 1
        if verdict.status in (FAILING, PARTIAL, BROKEN):
            category = f" ({verdict.category})" if verdict.category else ""
            message = _short(verdict.message)
            text = f"  {verdict.status:<8} {key[1]}{category} at {_where(sites)}" + (
                f': "{message}"' if message else ""
            )
            details.append((order[verdict.status], text))
    tested = counts[PORTABLE] + counts[PARTIAL] + counts[FAILING]
    parts = [f"{counts[s]} {s}" for s in (PORTABLE, PARTIAL, FAILING) if counts[s]]
    frameworks = result.device_frameworks.get(device)
    label = f"{device} ({', '.join(fw for fw in result.frameworks if fw in frameworks)})" if frameworks else device
    line = f"{label}: {tested} tested" + (f" ({', '.join(parts)})" if parts else "")
    line += "".join(f", {counts[s]} {s}" for s in (BROKEN, UNTESTED, NO_CASES) if counts[s])
    return line, [text for _, text in sorted(details, key=lambda d: d[0])]


def render_text(result: ScanResult) -> str:
    """The whole summary (ends with a newline)."""
    lines = [headline(result)]
    if not result.devices:
        lines.append("no device to report on: give --store with results, or --devices")
    for device in result.devices:
        line, details = device_line(result, device)
        lines.append(line)
        lines += details
    if result.settings:
        lines.append("settings that change portability:")
        for s in result.settings:
            value = f" = {s.value}" if s.value else ""
            lines.append(f"  {s.path}:{s.line}  {s.name}{value}  ({s.why})")
    if result.device_strings:
        by_device: dict[str, list] = {}
        for d in result.device_strings:
            by_device.setdefault(d.device, []).append(d)
        shown = "; ".join(f"{name!r} at {_where(found)}" for name, found in by_device.items())
        lines.append(f"devices named in the code: {shown}")
    kinds: dict[str, int] = {}
    for site in result.resolved_sites:
        kinds[site.kind] = kinds.get(site.kind, 0) + 1
    if kinds:
        lines.append("call sites by kind: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    lines += result.run_summaries
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"
