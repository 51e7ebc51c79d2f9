#!/usr/bin/env bash
# Installs what is missing, builds kiln with warnings as errors and runs every test (C++ unit tests,
# exporter tests, demo, end-to-end export + compare). GPU tests skip with a reason on machines without one.
# Before that, the host-side unit tests (formats, layers, planner, engine) also run under AddressSanitizer
# and UBSan (skip with KILN_SKIP_SANITIZE=1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bash "$KILN_ROOT/scripts/install_deps.sh"
jobs="$(nproc 2>/dev/null || echo 2)"

if [ "${KILN_SKIP_SANITIZE:-0}" != 1 ]; then
  asan="$KILN_ROOT/build-asan"
  sanitized=(kiln_formats_tests kiln_layers_test kiln_planner_tests kiln_engine_tests)
  cmake -S "$KILN_ROOT" -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=ON -DKILN_WERROR=ON \
    -DKILN_BUILD_BENCHMARKS=OFF -DKILN_PYTHON="$(kiln_python)" >/dev/null
  cmake --build "$asan" -j "$jobs" --target "${sanitized[@]}"
  echo "== host unit tests under AddressSanitizer + UBSan"
  for t in "$asan"/tests/formats/kiln_formats_tests "$asan"/tests/layers/kiln_layers_test \
           "$asan"/tests/planner/kiln_planner_tests "$asan"/tests/engine/kiln_engine_tests; do
    "$t" --gtest_brief=1
  done
fi

kiln_build -DKILN_WERROR=ON
cd "$KILN_BUILD"
ctest --output-on-failure -j "$jobs" "$@"
