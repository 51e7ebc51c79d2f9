#!/usr/bin/env bash
# End to end: export a PyTorch model with kiln_export (golden input + PyTorch output), then run it
# through kiln and compare. Usage: export_and_compare.sh KILN PYTHON REPO WORKDIR MODEL SHAPE DEVICE [compare args...]
set -euo pipefail
kiln="$1"; python="$2"; repo="$3"; work="$4"; model="$5"; shape="$6"; device="$7"; shift 7


rm -rf "$work"
mkdir -p "$work"
PYTHONPATH="$repo/exporter" "$python" -m kiln_export --model "$model" --input-shape "$shape" --out "$work/model" --golden-layers
"$kiln" inspect --model "$work/model"
"$kiln" compare --model "$work/model" --device "$device" --layers "$@"
