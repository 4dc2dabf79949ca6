"""Subcommands: each module has ``add_parser(subparsers, name)`` and a handler calling library code."""

from portabench.commands import (
    api,
    compare,
    coverage,
    export,
    import_data,
    merge,
    mine,
    report,
    run,
    sample,
    scan,
    study,
)

COMMANDS = {
    "api": api,
    "mine": mine,
    "sample": sample,
    "coverage": coverage,
    "run": run,
    "study": study,
    "report": report,
    "export": export,
    "merge": merge,
    "import": import_data,
    "compare": compare,
    "scan": scan,
}
