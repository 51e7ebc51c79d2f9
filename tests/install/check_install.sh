#!/usr/bin/env bash
# Installs the kiln build BUILD into a temporary prefix, then builds and runs a downstream program against
# it twice: with CMake (find_package(kiln CONFIG), kiln::kiln) and with pkg-config (kiln.pc), each on the
# CPU reference path over MODEL (an export with golden tensors).
#   check_install.sh BUILD MODEL WORK
set -euo pipefail
build="$1"; model="$2"; work="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
test -x "$work/prefix/bin/kiln" && "$work/prefix/bin/kiln" --version
test -f "$work/prefix/include/kiln/kiln/version.h"

cmake -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  >"$work/consumer-configure.log"
cmake --build "$work/cmake-build" -j 2 >"$work/consumer-build.log"
echo "find_package consumer: $("$work/cmake-build/consumer" "$model")"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
c++ -std=c++17 -O1 "$here/consumer/main.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs kiln) -lpthread
echo "pkg-config consumer: $("$work/pc-consumer" "$model")"
