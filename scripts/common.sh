# Shared by the scripts: the repo root, a Python that has PyTorch, and a configured build folder.
KILN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KILN_BUILD="${KILN_BUILD:-$KILN_ROOT/build}"

# The first of these interpreters that imports torch: Debian's PyTorch is seen only by /usr/bin/python3.
kiln_python() {
  local p
  for p in ${KILN_PYTHON:-} /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c "import torch" >/dev/null 2>&1; then
      command -v "$p"
      return 0
    fi
  done
  echo "no python3 with PyTorch found (set KILN_PYTHON)" >&2
  return 1
}

# Configures and builds kiln into $KILN_BUILD with the given extra CMake arguments.
kiln_build() {
  local jobs
  jobs="$(nproc 2>/dev/null || echo 2)"
  cmake -S "$KILN_ROOT" -B "$KILN_BUILD" -DCMAKE_BUILD_TYPE=Release -DKILN_PYTHON="$(kiln_python)" "$@"
  cmake --build "$KILN_BUILD" -j "$jobs"
}
