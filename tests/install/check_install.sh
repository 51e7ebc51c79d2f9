#!/usr/bin/env bash
# Installs the kiln build BUILD into a temporary prefix, then builds and runs a downstream program against
# it three times: with CMake (find_package(kiln CONFIG), kiln::kiln), with CMake against libkiln.so
# (kiln::shared) and with pkg-config (kiln.pc), each on the CPU reference path over MODEL (an export with
# golden tensors). libkiln.so must export kiln's public API and nothing else.
# With PYTHON, the installed Python package runs MODEL too.
#   check_install.sh BUILD MODEL WORK [PYTHON]
set -euo pipefail
build="$1"; model="$2"; work="$3"; python="${4:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
# A failing step writes into a log: show the newest one.
trap 'rc=$?; if [ $rc -ne 0 ]; then log="$(ls -t "$work"/*.log 2>/dev/null | head -1)"; echo "check_install.sh failed (rc $rc) at line $LINENO; ${log:-no log}:"; [ -n "$log" ] && tail -30 "$log"; fi' EXIT
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
test -x "$work/prefix/bin/kiln" && "$work/prefix/bin/kiln" --version
test -f "$work/prefix/include/kiln/kiln/version.h"

cmake -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  >"$work/consumer-configure.log"
cmake --build "$work/cmake-build" -j 2 >"$work/consumer-build.log"
echo "find_package consumer: $("$work/cmake-build/consumer" "$model")"

cmake -S "$here/consumer" -B "$work/shared-build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DKILN_TARGET=kiln::shared >"$work/shared-configure.log"
cmake --build "$work/shared-build" -j 2 >"$work/shared-build.log"
# (ldd's output held first: grep -q stopping early would fail the pipe under pipefail.)
libs="$(ldd "$work/shared-build/consumer")"
grep -q "libkiln.so.0.1 => $work/prefix/" <<<"$libs" \
  || { echo "the kiln::shared consumer does not load the installed libkiln.so:"; echo "$libs"; exit 1; }
echo "shared-library consumer: $("$work/shared-build/consumer" "$model")"
exported="$(nm -D --defined-only "$work/prefix/lib/libkiln.so" | c++filt | cut -d' ' -f3-)"
outside="$(grep -v "kiln::" <<<"$exported" || true)"
[ -z "$outside" ] || { echo "libkiln.so exports symbols outside namespace kiln:"; head -5 <<<"$outside"; exit 1; }
for internal in "kiln::plan_memory" "kiln::gpu::LayerScope" "kiln::gpu::DeviceWeights"; do
  if grep -q "^$internal" <<<"$exported"; then echo "libkiln.so exports the internal $internal"; exit 1; fi
done
for public in "kiln::gpu::GpuEngine::load" "kiln::gpu::ExecutionContext::run" "typeinfo for kiln::UsageError"; do
  grep -q "^$public" <<<"$exported" || { echo "libkiln.so does not export $public"; exit 1; }
done
echo "libkiln.so exports $(wc -l <<<"$exported") symbols, all in namespace kiln"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
c++ -std=c++17 -O1 "$here/consumer/main.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs kiln) -lpthread
echo "pkg-config consumer: $("$work/pc-consumer" "$model")"

if [ -n "$python" ]; then
  sites=("$work"/prefix/lib*/python3*/site-packages)
  PYTHONPATH="${sites[0]}:$here/../../exporter" "$python" - "$model" <<'PY'
import sys, numpy as np, kiln
from kiln_export import read_tensors
assert "/prefix/" in kiln.__file__, kiln.__file__
golden = read_tensors(sys.argv[1] + "/golden/outputs.manifest")
out = kiln.load(sys.argv[1], device="cpu").context().run(read_tensors(sys.argv[1] + "/golden/inputs.manifest"))
worst = max(float(np.abs(out[k] - golden[k]).max()) for k in golden)
assert worst < 1e-4, worst
print("installed Python package: kiln %s, max abs difference from PyTorch %.3g" % (kiln.__version__, worst))
PY
fi
