#!/usr/bin/env bash
# The main job: installs what is missing, builds kiln, exports the reference autoencoder from PyTorch,
# runs it through kiln (on the GPU when one is present, else on the CPU reference path) and compares
# with PyTorch's own output. Results land in ${KILN_DEMO_OUT:-out/demo}.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bash "$KILN_ROOT/scripts/install_deps.sh"
kiln_build -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF
out="${KILN_DEMO_OUT:-$KILN_ROOT/out/demo}"
py="$(kiln_python)"
mkdir -p "$out"
echo "== exporting kiln_export.zoo:autoencoder (3x256x256) with PyTorch $("$py" -c 'import torch; print(torch.__version__)')"
PYTHONPATH="$KILN_ROOT/exporter" "$py" -m kiln_export --model kiln_export.zoo:autoencoder \
  --input-shape 1,3,256,256 --out "$out/autoencoder" --golden-layers
echo "== kiln inspect"
"$KILN_BUILD/kiln" inspect --model "$out/autoencoder"
echo "== kiln run"
"$KILN_BUILD/kiln" run --model "$out/autoencoder" --output "$out/autoencoder_out.manifest"
echo "== kiln compare (kiln vs PyTorch)"
"$KILN_BUILD/kiln" compare --model "$out/autoencoder" --layers --atol 1e-5 --rtol 1e-4
