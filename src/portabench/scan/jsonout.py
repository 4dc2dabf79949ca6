"""The scan as JSON (``--format json``): every site with its status per device, settings, device strings.

Top-level keys: ``format`` (``portabench-scan/1``), ``paths``, ``stores``, ``files``,
``files_skipped``, ``frameworks``, ``devices``, ``listing_versions``, ``summary``
(per device: count of distinct functions per status, over the frameworks reported on it), ``functions`` (per distinct
function: its sites and per-device verdict), ``sites`` (every site, resolved and
unresolved, with ``status`` per device for resolved ones), ``settings``,
``device_strings``, ``notes``.
"""

from __future__ import annotations

from typing import Any

from portabench.scan.model import STATUSES, ScanResult

FORMAT = "portabench-scan/1"


def scan_json(result: ScanResult) -> dict[str, Any]:
    functions = result.functions()
    summary = {
        device: {
            s: sum(
                1 for k in functions if result.applies(k[0], device) and result.function_status(k, device).status == s
            )
            for s in STATUSES
        }
        for device in result.devices
    }
    return {
        "format": FORMAT,
        "paths": list(result.options.paths),
        "stores": list(result.options.stores),
        "files": result.files,
        "files_skipped": result.files_skipped,
        "frameworks": result.frameworks,
        "devices": result.devices,
        "device_frameworks": {d: sorted(f) for d, f in result.device_frameworks.items()},
        "listing_versions": result.listing_versions,
        "fail_on": result.options.fail_on,
        "fail_on_met": result.fail_on_met(),
        "summary": summary,
        "functions": [
            {
                "framework": fw,
                "name": name,
                "call_sites": len(sites),
                "covers": list(sites[0].covers),
                "status": {d: result.function_status((fw, name), d).to_json() for d in result.devices_for(fw)},
            }
            for (fw, name), sites in functions.items()
        ],
        "sites": [
            {
                **site.to_json(),
                **(
                    {"status": {d: result.site_status(site, d).to_json() for d in result.devices_for(site.framework)}}
                    if site.resolution != "unresolved"
                    else {}
                ),
            }
            for site in result.sites
        ],
        "settings": [s.to_json() for s in result.settings],
        "device_strings": [d.to_json() for d in result.device_strings],
        "runs": result.run_summaries,
        "notes": result.notes,
    }
