#!/usr/bin/env bash
# The whole-model sweep of issue 14 in one resumable command (meant for one device-tool call on a GPU host):
#   scripts/models_sweep.sh DIR [TOTAL_SECONDS] [WORKERS]
# e.g. PYTHONPATH=$PWD/src scripts/models_sweep.sh results/models-h200 560 8
#
# `--preset models` (sampled once into DIR/manifest.json) in five runs, each its own store in DIR (a run is
# resumed only by a command with the same options, so the passes must not share a store):
#   1. eager.sqlite          cuda vs cpu, eager, batch 8: outputs and gradients compared, float64 arbiter and layer
#                            localisation on a mismatch; WORKERS workers sharing the GPU and the CPU cores
#                            (OMP_NUM_THREADS = cores / WORKERS each); no timing.
#   2. compile.sqlite        cuda in compile mode vs cuda eager, batch 8; WORKERS workers; no timing.
#   3. time-eager.sqlite     cuda eager, one worker alone: every step timed at batch 8 and 32 (no comparison).
#   4. time-cpu.sqlite       cpu eager, one worker with every core: the timing baseline of the slowdowns.
#   5. time-compile.sqlite   cuda compile, one worker alone, timed. Inductor's cache (TORCHINDUCTOR_CACHE_DIR,
#                            shared by passes 2 and 5) holds pass 2's kernels, so pass 5 mostly re-traces.
# Each pass gets at most its share of TOTAL_SECONDS plus what earlier passes left unused, and stops
# resumably when it is spent; running the same command again continues every unfinished pass (a complete
# one is skipped). One JSON line per pass goes to DIR/throughput.jsonl (benchmarks/models_per_minute.py).
# DEVICE (default cuda) and MODELS (a --models list instead of the preset) are for trying it on a CPU machine.
# At the end the stores are merged into DIR/compared.sqlite (passes 1-2) and DIR/timed.sqlite (3-5), each with
# its report (DIR/compared.md, DIR/timed.md: the slowdowns), and DIR is copied
# to $OUT when set (the device tool's return folder).
set -uo pipefail
dir=${1:?usage: scripts/models_sweep.sh DIR [TOTAL_SECONDS] [WORKERS]}
total=${2:-560}
workers=${3:-8}
cores=$(nproc)
threads=$(( cores / workers > 0 ? cores / workers : 1 ))
mkdir -p "$dir"
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-/tmp/portabench-models-inductor}
export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-$TORCHINDUCTOR_CACHE_DIR/triton}
device=${DEVICE:-cuda}
if [[ -n "${MODELS:-}" ]]; then select="--models $MODELS"; else select="--sample $dir/manifest.json"; fi
bench="python3 benchmarks/models_per_minute.py $select --json $dir/throughput.jsonl --timeout 120 --repeats 2 --time-budget 0.02"
start=$SECONDS
carry=0

left() { echo $(( total - (SECONDS - start) )); }

pass() {  # pass SHARE STORE ARGS... : run one pass with min(SHARE + carry, time left) seconds
  local share=$1 store=$2; shift 2
  local budget=$(( share + carry )) remaining
  remaining=$(left)
  (( budget > remaining )) && budget=$remaining
  if (( budget < 15 )); then echo "skip $store: ${budget}s left" >&2; return; fi
  local before=$SECONDS
  $bench --store "$dir/$store" --budget "$budget" "$@"
  carry=$(( budget - (SECONDS - before) )); (( carry < 0 )) && carry=0
}

if [[ -z "${MODELS:-}" && ! -s $dir/manifest.json ]]; then
  python3 -m portabench sample --framework torch --preset models -o "$dir/manifest.json" || exit 2
fi
# comparison passes list only the compared batch (PORTABENCH_MODEL_BATCHES): batch 32 is timing-only, and in
# compile mode each of its cases would be one more compilation
PORTABENCH_MODEL_BATCHES=8 OMP_NUM_THREADS=$threads pass $(( total * 25 / 100 )) eager.sqlite --device "$device" --reference cpu --workers "$workers" --no-timing
PORTABENCH_MODEL_BATCHES=8 OMP_NUM_THREADS=$threads pass $(( total * 40 / 100 )) compile.sqlite --device "$device" --reference "$device" --mode compile --workers "$workers" --no-timing
pass $(( total * 8 / 100 )) time-eager.sqlite --device "$device" --workers 1
pass $(( total * 15 / 100 )) time-cpu.sqlite --device cpu --workers 1
pass $(( total * 12 / 100 )) time-compile.sqlite --device "$device" --mode compile --workers 1

# two merged stores, each with its report: the comparisons, and the timings (a column pools runs of the same
# configuration showing the newest run's result, so a timing run must not hide a comparison run's result)
merge_report() {  # merge_report NAME STORES...
  local name=$1; shift
  local stores=() s
  for s in "$@"; do [[ -s $dir/$s.sqlite ]] && stores+=("$dir/$s.sqlite"); done
  rm -f "$dir/$name.sqlite"
  (( ${#stores[@]} )) && python3 -m portabench merge -o "$dir/$name.sqlite" "${stores[@]}" \
    && python3 -m portabench report --store "$dir/$name.sqlite" -o "$dir/$name.md"
}
merge_report compared eager compile
merge_report timed time-eager time-cpu time-compile
echo "sweep: $(( SECONDS - start )) s of $total s" >&2
if [[ -n "${OUT:-}" ]]; then cp -r "$dir" "$OUT"/ 2>/dev/null; fi
