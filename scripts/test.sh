#!/usr/bin/env bash
# Installs what is missing, builds kiln with warnings as errors and runs every test (C++ unit tests,
# exporter tests, demo, end-to-end export + compare). GPU tests skip with a reason on machines without one.
# Before that:
#   - AddressSanitizer + UBSan: the host unit tests (formats, layers, planner, engine, faults and
#     concurrency included) and the end-to-end CPU comparisons of the autoencoder, ResNet-18 and the
#     U-Net through a sanitized kiln (skip with KILN_SKIP_SANITIZE=1);
#   - ThreadSanitizer: the concurrency tests (threads sharing one engine; skip with KILN_SKIP_TSAN=1);
#   - the libFuzzer targets of tests/fuzz, KILN_FUZZ_SECONDS (60) each (scripts/fuzz.sh; skip with
#     KILN_SKIP_FUZZ=1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bash "$KILN_ROOT/scripts/install_deps.sh"
jobs="$(nproc 2>/dev/null || echo 2)"
py="$(kiln_python)"

if [ "${KILN_SKIP_SANITIZE:-0}" != 1 ]; then
  asan="$KILN_ROOT/build-asan"
  sanitized=(kiln_formats_tests kiln_formats_limits_tests kiln_layers_test kiln_planner_tests kiln_engine_tests kiln)
  cmake -S "$KILN_ROOT" -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=ON -DKILN_WERROR=ON \
    -DKILN_BUILD_BENCHMARKS=OFF -DKILN_PYTHON="$py" >/dev/null
  cmake --build "$asan" -j "$jobs" --target "${sanitized[@]}"
  echo "== host unit tests under AddressSanitizer + UBSan"
  for t in "$asan"/tests/formats/kiln_formats_tests "$asan"/tests/formats/kiln_formats_limits_tests \
           "$asan"/tests/layers/kiln_layers_test "$asan"/tests/planner/kiln_planner_tests \
           "$asan"/tests/engine/kiln_engine_tests; do
    "$t" --gtest_brief=1
  done
  echo "== end-to-end CPU comparisons under AddressSanitizer + UBSan"
  for spec in autoencoder:1,3,128,128 resnet18:1,3,128,128 unet:2,3,64,64; do
    name=${spec%%:*}
    bash "$KILN_ROOT/tests/e2e/export_and_compare.sh" "$asan/kiln" "$py" "$KILN_ROOT" "$asan/e2e/$name" \
      "kiln_export.zoo:$name" "${spec#*:}" cpu --atol 1e-4 --rtol 1e-4 >"$asan/e2e_$name.log" 2>&1 \
      || { tail -40 "$asan/e2e_$name.log"; echo "e2e $name under ASan: FAILED"; exit 1; }
    echo "e2e $name under ASan: $(tail -1 "$asan/e2e_$name.log")"
  done
fi

if [ "${KILN_SKIP_TSAN:-0}" != 1 ]; then
  tsan="$KILN_ROOT/build-tsan"
  cmake -S "$KILN_ROOT" -B "$tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE_THREAD=ON -DKILN_WERROR=ON \
    -DKILN_BUILD_BENCHMARKS=OFF -DKILN_PYTHON="$py" >/dev/null
  cmake --build "$tsan" -j "$jobs" --target kiln_engine_tests
  echo "== concurrency tests under ThreadSanitizer"
  TSAN_OPTIONS="halt_on_error=1" "$tsan/tests/engine/kiln_engine_tests" --gtest_brief=1 --gtest_filter='Concurrency*'
fi

if [ "${KILN_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzzing (${KILN_FUZZ_SECONDS:-60} s per target)"
  bash "$KILN_ROOT/scripts/fuzz.sh"
fi

kiln_build -DKILN_WERROR=ON
cd "$KILN_BUILD"
ctest --output-on-failure -j "$jobs" "$@"
