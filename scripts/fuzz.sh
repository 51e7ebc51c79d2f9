#!/usr/bin/env bash
# Builds kiln's libFuzzer targets (tests/fuzz: clang, AddressSanitizer + UBSan, no CUDA) into build-fuzz/
# and runs each for a bounded time on a working copy of its seeds (tests/fuzz/seeds/<target>/), after
# replaying every saved regression input (tests/fuzz/regressions/<target>/*).
#
#   bash scripts/fuzz.sh                              # every target, 60 s each
#   KILN_FUZZ_SECONDS=600 bash scripts/fuzz.sh fuzz_model_folder
#
# Prints one line per target: "fuzz <target>: <execs> executions in <s> s, corpus <n> files, no crash".
# A crash, sanitizer report, leak, timeout or out-of-memory is kept as
# tests/fuzz/regressions/<target>/<kind>-<sha1> (printed with the stack trace) and the script exits 1;
# commit that file once kiln is fixed and it is replayed by every later run.
#
# Environment: KILN_FUZZ_SECONDS (60; 0 = only run the seeds and regressions once), KILN_FUZZ_JOBS
# (targets run at once; default: the number of CPUs), KILN_FUZZ_BUILD (build-fuzz), KILN_FUZZ_CXX (clang++).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

seconds="${KILN_FUZZ_SECONDS:-60}"
build="${KILN_FUZZ_BUILD:-$KILN_ROOT/build-fuzz}"
cxx="${KILN_FUZZ_CXX:-clang++}"
fuzz_dir="$KILN_ROOT/tests/fuzz"
cpus="$(nproc 2>/dev/null || echo 2)"
all_targets=(fuzz_manifest fuzz_model_yaml fuzz_model_folder fuzz_tensor_file)
targets=("${all_targets[@]}")
[ $# -gt 0 ] && targets=("$@")
parallel="${KILN_FUZZ_JOBS:-$cpus}"
[ "$parallel" -ge 1 ] 2>/dev/null || parallel=1

for t in "${targets[@]}"; do
  if [[ " ${all_targets[*]} " != *" $t "* ]]; then
    echo "fuzz: unknown target '$t' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz: $cxx not found (bash scripts/install_deps.sh installs clang and libclang-rt-dev)" >&2
  exit 1
fi
echo "== fuzz: building ${targets[*]} with $cxx into $build"
cmake -S "$fuzz_dir" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$build" -j "$cpus" --target "${targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:check_initialization_order=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
common=(-rss_limit_mb=2048 -timeout=10 -max_len=65536)
logs="$build/logs"
mkdir -p "$logs"

# Copies the inputs libFuzzer saved for a finding into tests/fuzz/regressions/<target>/ and prints them
# with the report from the log.
keep_findings() {
  local t="$1" artifacts="$2" log="$3" f kept=0
  mkdir -p "$fuzz_dir/regressions/$t"
  for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
    [ -f "$f" ] || continue
    cp "$f" "$fuzz_dir/regressions/$t/"
    echo "fuzz $t: FOUND $(basename "$f" | cut -d- -f1): input kept as tests/fuzz/regressions/$t/$(basename "$f")"
    echo "fuzz $t:   reproduce: $build/$t tests/fuzz/regressions/$t/$(basename "$f")"
    kept=1
  done
  [ "$kept" = 1 ] || echo "fuzz $t: FAILED without saving an input"
  echo "fuzz $t: report (full log: $log):"
  sed -n '/ERROR\|runtime error\|^kiln fuzz: broken invariant\|^terminate called\|^ALARM/,$p' "$log" \
    | grep -v '^#\|^INFO\|^MS:\|^Base64\|^0x\|^stat::' | head -60 | cut -c1-300 | sed "s/^/  | /"
}

# Runs one target; writes its summary line to $logs/<target>.summary and "ok" or "fail" to .status.
run_target() {
  local t="$1" bin="$build/$1" log="$logs/$1.log" corpus="$build/corpus/$1" artifacts="$build/artifacts/$1"
  local status=ok rc=0 start end execs n
  : >"$log"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  {
    # 1. Saved regression inputs: a file that crashes again fails the run at once.
    local -a regressions=()
    if [ -d "$fuzz_dir/regressions/$t" ]; then
      mapfile -t regressions < <(find "$fuzz_dir/regressions/$t" -maxdepth 1 -type f ! -name '.*' | sort)
    fi
    if [ ${#regressions[@]} -gt 0 ]; then
      "$bin" "${common[@]}" "${regressions[@]}" >>"$log" 2>&1 || rc=$?
      if [ "$rc" != 0 ]; then
        echo "fuzz $t: a regression input in tests/fuzz/regressions/$t/ fails again (exit $rc)"
        echo "fuzz $t: report (full log: $log):"
        grep -v '^INFO\|^#\|^MS:\|^Base64\|^0x' "$log" | tail -60 | cut -c1-300 | sed "s/^/  | /"
        echo fail >"$logs/$t.status"
        return 0
      fi
    fi
    # 2. Fuzzing from a copy of the seeds (libFuzzer adds what it finds to the first corpus folder).
    cp -R "$fuzz_dir/seeds/$t/." "$corpus/"
    local -a limit=(-max_total_time="$seconds")
    [ "$seconds" = 0 ] && limit=(-runs=0)
    start="${EPOCHREALTIME:-$(date +%s)}"
    "$bin" "${common[@]}" "${limit[@]}" -print_final_stats=1 -dict="$fuzz_dir/dicts/$t.dict" \
      -artifact_prefix="$artifacts/" "$corpus" >>"$log" 2>&1 || rc=$?
    end="${EPOCHREALTIME:-$(date +%s)}"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    [ -n "$execs" ] || execs="$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -1)"
    n="$(find "$corpus" -type f | wc -l)"
    if [ "$rc" = 0 ] && ! compgen -G "$artifacts/[clot]*-*" >/dev/null; then
      [ ${#regressions[@]} = 0 ] || echo "fuzz $t: replayed ${#regressions[@]} regression input(s), all pass"
      echo "fuzz $t: ${execs:-?} executions in $(awk "BEGIN { printf \"%.0f\", $end - $start }") s, corpus $n files, no crash"
    else
      echo "fuzz $t: libFuzzer exited $rc after ${execs:-?} executions (seed: $(sed -n 's/^INFO: Seed: //p' "$log" | head -1))"
      keep_findings "$t" "$artifacts" "$log"
      status=fail
    fi
    echo "$status" >"$logs/$t.status"
  } >"$logs/$t.summary"
}

echo "== fuzz: ${#targets[@]} target(s), ${seconds} s each, $parallel at a time (logs in $logs)"
for t in "${targets[@]}"; do rm -f "$logs/$t.status" "$logs/$t.summary"; done
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  run_target "$t" &
done
wait

failed=0
for t in "${targets[@]}"; do
  cat "$logs/$t.summary" 2>/dev/null || echo "fuzz $t: no result (see $logs/$t.log)"
  [ "$(cat "$logs/$t.status" 2>/dev/null)" = ok ] || failed=1
done
if [ "$failed" != 0 ]; then
  echo "fuzz: FAILED: inputs that crash kiln are under tests/fuzz/regressions/ (see above)" >&2
  exit 1
fi
