#!/usr/bin/env bash
# One device-tool command of the GPU study (issue 6): resumable through the store in results/.
#   scripts/device_study.sh STORE BUDGET STUDY-ARGS...
# e.g. scripts/device_study.sh results/torch-h100-all.sqlite 480s --framework torch --devices cpu,cuda --preset all --dtypes float32
# Runs `portabench study` with that budget (a later call with the same arguments continues it),
# then copies the store and its Markdown report to $OUT (the device tool's return folder) when set.
set -uo pipefail
store=$1 budget=$2
shift 2
report=${store%.sqlite}.md
python3 -m portabench study --store "$store" --budget "$budget" -o "$report" "$@"
status=$?
if [[ -n "${OUT:-}" ]]; then cp "$store" "$report" "$OUT"/ 2>/dev/null; fi
exit $status
