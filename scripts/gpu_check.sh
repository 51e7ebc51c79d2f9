#!/usr/bin/env bash
# Everything that needs a GPU, in one go, for a GPU host (H100/H200): environment, Release build for
# sm_90, every test (GPU tests included), kiln compare --device gpu against PyTorch golden outputs made on
# this host for the reference models in fp32, tf32 and fp16, and a compute-sanitizer memcheck run.
# Logs go to ${OUT:-out/gpu_check}: summary.txt and results.tar.gz (every log and JSON report); the last
# lines printed are the summary.
#
#   bash scripts/gpu_check.sh [stage ...]     stages: env build test compare sanitize demo profile (default: all)
set -uo pipefail
export KILN_BUILD="${KILN_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build-gpu-host}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
RESULTS="${OUT:-$KILN_ROOT/out/gpu_check}"
OUT="${KILN_GPU_WORK:-/tmp/kiln_gpu_check}"
mkdir -p "$OUT" "$RESULTS"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(env build test compare sanitize demo profile)
summary="$OUT/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
py="$(kiln_python)"
models="$OUT/models"  # exported models stay here, out of the results

if want env; then
  {
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
    nvcc --version | tail -2
    grep -hE "define CUDNN_(MAJOR|MINOR|PATCHLEVEL) " /usr/include/cudnn_version*.h /usr/include/x86_64-linux-gnu/cudnn_version*.h /usr/local/cuda/include/cudnn_version.h 2>/dev/null
    "$py" -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cudnn', torch.backends.cudnn.version())"
    cmake --version | head -1
  } >"$OUT/env.txt" 2>&1
  note "env: $(sed -n 3p "$OUT/env.txt")"
fi

if want build; then
  start=$(date +%s)
  if kiln_build -DCMAKE_CUDA_ARCHITECTURES=90 >"$OUT/build.log" 2>&1; then
    note "build: ok in $(( $(date +%s) - start )) s ($(grep -c 'warning' "$OUT/build.log") warning lines)"
  else
    note "build: FAILED (see build.log)"; tail -30 "$OUT/build.log"; exit 1
  fi
fi

if want test; then
  (cd "$KILN_BUILD" && ctest --output-on-failure -j 8 --timeout 900) >"$OUT/ctest.log" 2>&1
  note "ctest: $(grep -E 'tests passed|tests failed' "$OUT/ctest.log" | tail -1)"
  grep -E "^\s+[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess)" "$OUT/ctest.log" | tee -a "$summary"
  "$KILN_BUILD/tests/gpu/kiln_gpu_tests" --gtest_brief=1 >"$OUT/gpu_tests.log" 2>&1
  note "gpu tests: $(grep -E '^\[  (PASSED|FAILED|SKIPPED)' "$OUT/gpu_tests.log" | tr '\n' ' ')"
fi

if want compare; then
  mkdir -p "$models"
  : >"$OUT/compare.log"
  for spec in autoencoder:1,3,512,512 resnet18:1,3,224,224 resnet50:1,3,224,224 unet:1,3,256,256; do
    name=${spec%%:*}; shape=${spec#*:}
    PYTHONPATH="$KILN_ROOT/exporter" "$py" -m kiln_export --model "kiln_export.zoo:$name" --input-shape "$shape" \
      --out "$models/$name" --golden-layers >>"$OUT/compare.log" 2>&1 || note "export $name: FAILED"
    PYTHONPATH="$KILN_ROOT/exporter" "$py" "$KILN_ROOT/scripts/torch_gpu_baseline.py" --model "kiln_export.zoo:$name" \
      --export-dir "$models/$name" 2>&1 | tee -a "$OUT/compare.log" | sed 's/^/  /' >>"$summary"
    for prec in fp32 tf32 fp16; do
      # fp32: rtol 1e-5; atol 1e-4 because untrained ResNet-50's logits reach about ±110, where float32
      # summation order alone moves near-zero logits by ~3e-5 (PyTorch's own GPU run differs from its CPU
      # run by more, see its baseline line). tf32: 10-bit mantissas, ~1e-3 relative per layer. fp16: half
      # storage with float accumulation; atol 0.25 is 2e-3 of ResNet-50's logit range.
      case $prec in
        fp32) tol="--atol 1e-4 --rtol 1e-5" ;;
        tf32) tol="--atol 5e-2 --rtol 1e-2" ;;
        fp16) tol="--atol 2.5e-1 --rtol 2e-2" ;;
      esac
      echo "== $name $prec" >>"$OUT/compare.log"
      "$KILN_BUILD/kiln" compare --model "$models/$name" --device gpu --precision "$prec" $tol \
        --json "$OUT/compare_$name.$prec.json" >>"$OUT/compare.log" 2>&1
      rc=$?
      note "compare $name $prec (${tol}): rc=$rc $(grep -E '^output ' "$OUT/compare.log" | tail -1 | cut -c1-230)"
    done
  done
fi

if want sanitize; then
  if command -v compute-sanitizer >/dev/null; then
    compute-sanitizer --tool memcheck --leak-check full "$KILN_BUILD/kiln" compare --model "$models/resnet18" \
      --device gpu --atol 1e-5 --rtol 1e-5 >"$OUT/sanitizer.log" 2>&1
    note "compute-sanitizer memcheck (resnet18 compare): rc=$? $(grep -E 'ERROR SUMMARY' "$OUT/sanitizer.log" | tail -1)"
  else
    note "compute-sanitizer: not on this host"
  fi
fi

if want demo; then
  PYTHONPATH="$KILN_ROOT/demo:$KILN_ROOT/exporter" "$py" -m kiln_demo --out "$OUT/demo" --kiln "$KILN_BUILD/kiln" \
    --device gpu >"$OUT/demo.log" 2>&1
  note "demo on the GPU: rc=$? $(grep -m1 -E 'kiln matches|kiln DIFFERS|differ' "$OUT/demo/report.md" 2>/dev/null)"
fi

if want profile; then
  for spec in autoencoder:32 unet:32 resnet50:32; do
    name=${spec%%:*}; batch=${spec#*:}
    [ -d "$models/$name" ] || continue
    for prec in fp32 tf32 fp16; do
      echo "== $name batch $batch $prec" >>"$OUT/profile.log"
      "$KILN_BUILD/kiln" profile --model "$models/$name" --batch "$batch" --precision "$prec" \
        --json "$OUT/profile_$name.$prec.json" >>"$OUT/profile.log" 2>&1
    done
  done
  note "profiles: profile.log ($(grep -c '^==' "$OUT/profile.log" 2>/dev/null) runs)"
fi

tar -C "$OUT" -czf "$RESULTS/results.tar.gz" --exclude=models --exclude=demo/model --exclude=demo/kiln_io \
  --exclude=demo/checkpoint.pt --exclude='demo/grid_*.png' . 2>/dev/null
cp "$summary" "$RESULTS/summary.txt"
echo "==== summary"
cat "$summary"
