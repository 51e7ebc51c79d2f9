#!/usr/bin/env bash
# Installs what is missing, builds kiln with warnings as errors and runs every test (C++ unit tests,
# exporter tests, end-to-end export + compare). GPU tests skip with a reason on machines without one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bash "$KILN_ROOT/scripts/install_deps.sh"
kiln_build -DKILN_WERROR=ON
cd "$KILN_BUILD"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@"
