#!/usr/bin/env bash
# The kiln-vs-PyTorch benchmark on a GPU host, in one call: builds kiln (Release, sm_90) into
# build-gpu-host unless it is up to date, runs benchmarks/run_benchmarks.py with the arguments given and
# leaves results.json, results.md, chart.png and run.log in $OUT (default benchmarks/results).
# KILN_BENCH_BUILD overrides the build folder.
#
#   bash benchmarks/gpu_bench.sh --models resnet18,resnet50 --precisions fp32,tf32,fp16
#   bash benchmarks/gpu_bench.sh --models autoencoder,unet --precisions fp32,tf32,fp16
#
# Several calls build one table: when $OUT has no results.json yet, benchmarks/results/results.json (a
# previous call's, copied back there) is taken as the start, and cells already measured are kept.
# The whole call stays under KILN_BENCH_BUDGET_S seconds (default 570): the build's time is taken off
# run_benchmarks.py's --time-budget-s unless the arguments set one; what does not fit is listed at the end.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
start=$(date +%s)
budget="${KILN_BENCH_BUDGET_S:-570}"
OUT="${OUT:-$KILN_ROOT/benchmarks/results}"
# (common.sh has already defaulted KILN_BUILD to build/, so this script has its own variable.)
KILN_BUILD="${KILN_BENCH_BUILD:-$KILN_ROOT/build-gpu-host}"
mkdir -p "$OUT"
previous="$KILN_ROOT/benchmarks/results/results.json"
if [ ! -f "$OUT/results.json" ] && [ -f "$previous" ]; then
  cp "$previous" "$OUT/results.json"
  echo "gpu_bench: continuing from $previous"
fi
py="$(kiln_python)" || exit 1

if [ ! -f "$KILN_BUILD/CMakeCache.txt" ]; then
  cmake -S "$KILN_ROOT" -B "$KILN_BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF >"$OUT/build.log" 2>&1 \
    || { tail -30 "$OUT/build.log"; echo "gpu_bench: cmake configure FAILED"; exit 1; }
fi
if ! cmake --build "$KILN_BUILD" --target kiln kiln_python -j "$(nproc 2>/dev/null || echo 4)" >>"$OUT/build.log" 2>&1; then
  tail -30 "$OUT/build.log"
  echo "gpu_bench: build FAILED (log: $OUT/build.log)"
  exit 1
fi
echo "gpu_bench: kiln built in $(( $(date +%s) - start )) s"

args=("$@")
case " $* " in
  *" --time-budget-s"*) ;;
  *) args+=(--time-budget-s "$(( budget - ($(date +%s) - start) ))") ;;
esac
KILN_BENCH_COMMAND="bash benchmarks/gpu_bench.sh $*" PYTHONUNBUFFERED=1 "$py" "$KILN_ROOT/benchmarks/run_benchmarks.py" --kiln "$KILN_BUILD/kiln" --out "$OUT" "${args[@]}" 2>&1 \
  | tee "$OUT/run.log"
rc=${PIPESTATUS[0]}
echo "gpu_bench: done in $(( $(date +%s) - start )) s (rc=$rc); results in $OUT"
exit "$rc"
