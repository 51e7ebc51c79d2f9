#!/usr/bin/env bash
# The main job: installs what is missing, builds kiln, then runs the demo (demo/README.md): trains a small
# convolutional autoencoder on scikit-image's sample images (or reuses its checkpoint), exports it with
# kiln_export, runs it through kiln (on the GPU when one is present, else on the CPU reference path) and
# through PyTorch, and writes PNG grids and report.md/report.json into ${KILN_DEMO_OUT:-out/demo}.
# Extra arguments go to the demo (e.g. --retrain, --steps 200, --device cpu; see --help).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bash "$KILN_ROOT/scripts/install_deps.sh"
kiln_build -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF
out="${KILN_DEMO_OUT:-$KILN_ROOT/out/demo}"
py="$(kiln_python)"
echo "== kiln demo with PyTorch $("$py" -c 'import torch; print(torch.__version__)') into $out"
PYTHONPATH="$KILN_ROOT/demo:$KILN_ROOT/exporter" "$py" -m kiln_demo --out "$out" --kiln "$KILN_BUILD/kiln" "$@"
echo
echo "== results"
echo "report: $out/report.md (and report.json)"
for png in "$out"/grid_*.png; do echo "grid:   $png"; done
echo
echo "== kiln compare --layers on the exported model (its golden input is the first image)"
"$KILN_BUILD/kiln" compare --model "$out/model" --layers --atol 1e-4 --rtol 1e-4
