#!/usr/bin/env bash
# Everything that needs a GPU, in one go, for a GPU host (H100/H200): environment, Release build for
# sm_90, every test (GPU tests included), kiln compare --device gpu against PyTorch golden outputs made on
# this host for the reference models in fp32, tf32 and fp16, and a compute-sanitizer memcheck run.
# Logs go to ${OUT:-out/gpu_check}: summary.txt and results.tar.gz (every log and JSON report); the last
# lines printed are the summary.
#
#   bash scripts/gpu_check.sh [stage ...]     stages: env build test gputest compare zoo mixed zoo_perf depthwise_ab imports deconv_ab
#                                             direct_ab residual_ab im2col_ab algo_ab transforms dynamic plan_cache cudnn_ab
#                                             multi_gpu sanitize demo profile ab
#                                             (default: all but gputest and ab; gputest runs only
#                                             kiln_gpu_tests, test runs every CTest test and them)
#
# Stage ab (before/after of a change): KILN_AB_BASELINE names another kiln source tree (say, a
# `git archive` of the commit before the change); it is built next to this one and both run
# benchmarks/ab_bench.py over the models the compare stage exported (KILN_AB_ARGS adds its options).
set -uo pipefail
export KILN_BUILD="${KILN_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build-gpu-host}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
RESULTS="${OUT:-$KILN_ROOT/out/gpu_check}"
OUT="${KILN_GPU_WORK:-/tmp/kiln_gpu_check}"
mkdir -p "$OUT" "$RESULTS"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(env build test compare sanitize demo profile)
ab_build="${KILN_AB_BUILD:-/tmp/kiln_ab_baseline}"
summary="$OUT/summary.txt"
: >"$summary"
# The summary is copied to the results after every line, so a run cut short still leaves what it had.
note() { echo "$*" | tee -a "$summary"; cp "$summary" "$RESULTS/summary.txt" 2>/dev/null; }
pack() {
  tar -C "$OUT" -czf "$RESULTS/results.tar.gz" --exclude=models --exclude=demo/model --exclude=demo/kiln_io \
    --exclude=demo/checkpoint.pt --exclude='demo/grid_*.png' --exclude=dynamic_fp32 --exclude=dynamic_fp16 --exclude=dynamic_bench \
    . 2>/dev/null
  cp "$summary" "$RESULTS/summary.txt"
}
# An outer `timeout` (SIGTERM) still gets the logs packed.
trap 'note "gpu_check: stopped by a signal; results so far packed"; pack; exit 124' TERM INT
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
py="$(kiln_python)"
models="$OUT/models"  # exported models stay here, out of the results

# One `kiln bench` (CUDA graph, no transfers) of model folder DIR at BATCH and PREC, with the environment
# assignments given after them (KILN_DEPTHWISE=kiln ...); its JSON goes to JSON, its output to LOG. Prints
# the median GPU compute ms, or ? when the run failed.
bench_ms() {  # JSON LOG DIR BATCH PREC [VAR=value ...]
  local json=$1 log=$2 dir=$3 batch=$4 prec=$5
  shift 5
  # shellcheck disable=SC2086  # KILN_BENCH_EXTRA: more kiln bench options, word-split on purpose
  env "$@" "$KILN_BUILD/kiln" bench --model "$dir" --batch "$batch" --precision "$prec" --no-transfers --cuda-graph \
    --warmup-ms 100 --duration-s 0.5 --json "$json" ${KILN_BENCH_EXTRA:-} >>"$log" 2>&1
  "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print('%.3f' % d['ms']['compute']['median'])" \
    "$json" 2>/dev/null || echo "?"
}

# Exports reference model NAME (kiln_export.zoo, at its usual input size) into $models unless it is there;
# the exporter's output goes to LOG.
export_zoo() {  # NAME LOG
  local shape
  case $1 in autoencoder) shape=1,3,512,512 ;; unet) shape=1,3,256,256 ;; *) shape=1,3,224,224 ;; esac
  mkdir -p "$models"
  [ -f "$models/$1/model.yaml" ] || PYTHONPATH="$KILN_ROOT/exporter" "$py" -m kiln_export \
    --model "kiln_export.zoo:$1" --input-shape "$shape" --out "$models/$1" >>"$2" 2>&1
}

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

if want build && [ -n "${KILN_AB_BASELINE:-}" ]; then
  # The baseline builds in the background while this tree builds (and its tests run).
  (cmake -S "$KILN_AB_BASELINE" -B "$ab_build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
     -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF && cmake --build "$ab_build" --target kiln -j 6) \
    >"$OUT/ab_build.log" 2>&1 &
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

if want gputest && ! want test; then
  # KILN_GTEST_FILTER narrows the run (a gtest filter), for a short check of the tests a change touches.
  "$KILN_BUILD/tests/gpu/kiln_gpu_tests" --gtest_brief=1 --gtest_filter="${KILN_GTEST_FILTER:-*}" >"$OUT/gpu_tests.log" 2>&1
  note "gpu tests: $(grep -E '^\[  (PASSED|FAILED|SKIPPED)' "$OUT/gpu_tests.log" | tr '\n' ' ')"
  grep -E "^\[  FAILED" "$OUT/gpu_tests.log" | head -20 | tee -a "$summary"
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
    for prec in ${KILN_COMPARE_PRECISIONS:-fp32 tf32 fp16}; do
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
        --json "$OUT/compare_$name.$prec.json" >"$OUT/compare_run.log" 2>&1
      rc=$?
      cat "$OUT/compare_run.log" >>"$OUT/compare.log"
      note "compare $name $prec (${tol}): rc=$rc $(grep -E '^output |error' "$OUT/compare_run.log" | tail -1 | cut -c1-230)"
    done
  done
fi

if want zoo; then
  # torchvision's standard families at 224x224 (tests/zoo/zoo_check.py): fp32 with PyTorch's random
  # weights (bound 1e-5), and with BatchNorm statistics calibrated on random inputs (activations of order
  # 1, which fp16 needs: bound 1e-2; fp32 shown beside it, bound 1e-4 or 3x PyTorch's own fp32 error).
  zoo="$KILN_ROOT/tests/zoo/zoo_check.py"
  : >"$OUT/zoo.log"
  for run in "fp32:" "fp32:--calibrate-bn --max-rel-l2 1e-4 --noise-factor 3" "fp16:--calibrate-bn"; do
    prec=${run%%:*}; extra=${run#*:}
    work="$models/zoo${extra:+_calibrated}"
    # shellcheck disable=SC2086
    "$py" "$zoo" --kiln "$KILN_BUILD/kiln" --shape 1,3,224,224 --work "$work" --device gpu --precision "$prec" \
      --reuse $extra --json "$OUT/zoo_${prec}${extra:+_calibrated}.json" >>"$OUT/zoo.log" 2>&1
    note "zoo $prec ${extra}: rc=$? $(tail -1 "$OUT/zoo.log")"
  done
  grep -E "PASS|FAIL" "$OUT/zoo.log" | sed 's/^/  /' >>"$summary"
fi

if want mixed; then
  # Issue 10's fp16 misses with their first layers in float32 (Note [mixed precision] in
  # engine/mixed_precision.h; benchmarks/NOTES.md 2026-12-07 has the study that chose the counts): the
  # calibrated-BN comparison of the zoo stage, all-half and mixed, and kiln bench at batch 1 and 32 of each
  # beside the fp32 engine. KILN_MIXED_SPECS overrides "model:spec ...".
  : >"$OUT/mixed.log"
  for entry in ${KILN_MIXED_SPECS:-mobilenet_v2:5 shufflenet_v2_x1_0:5 fcn_resnet50:32 deeplabv3_mobilenet_v3_large:5}; do
    name=${entry%%:*}; spec=${entry#*:}
    work="$models/zoo_calibrated"
    for fl in "" "$spec"; do
      "$py" "$KILN_ROOT/tests/zoo/zoo_check.py" --kiln "$KILN_BUILD/kiln" --models "$name" --shape 1,3,224,224 \
        --work "$work" --device gpu --precision fp16 --calibrate-bn --reuse ${fl:+--fp32-layers "$fl"} \
        --json "$OUT/mixed_${name}_${fl:-none}.json" >>"$OUT/mixed.log" 2>&1
      note "mixed $name fp32 layers '${fl:-none}': $(grep -E "^$name " "$OUT/mixed.log" | tail -1 | cut -c1-220)"
    done
    # The search a user would run (kiln compare --fp32-layers auto): the fewest leading float32 layers.
    "$KILN_BUILD/kiln" compare --model "$work/$name" --device gpu --precision fp16 --fp32-layers auto \
      --atol 1e30 --rtol 1e30 --json "$OUT/mixed_auto_${name}.json" >>"$OUT/mixed.log" 2>&1
    note "mixed auto $name: $(grep -E '^(fewest|even every)' "$OUT/mixed.log" | tail -1)"
    line="mixed bench $name (ms, batch 1 / 32):"
    for mode in "fp16:" "fp16:$spec" "fp32:"; do
      prec=${mode%%:*}; fl=${mode#*:}
      b1=$(KILN_BENCH_EXTRA="${fl:+--fp32-layers $fl}" bench_ms "$OUT/mixed_bench_${name}_${prec}_${fl:-none}_b1.json" "$OUT/mixed.log" "$work/$name" 1 "$prec")
      b32=$(KILN_BENCH_EXTRA="${fl:+--fp32-layers $fl}" bench_ms "$OUT/mixed_bench_${name}_${prec}_${fl:-none}_b32.json" "$OUT/mixed.log" "$work/$name" 32 "$prec")
      line="$line $prec${fl:+ +fp32 $fl} $b1 / $b32;"
    done
    note "$line"
  done
fi

if want zoo_perf; then
  # The zoo models (calibrated exports of the zoo stage): kiln bench at batch 1 and 32 in fp16 and fp32, and
  # a kiln profile at batch 32 in fp16 (KILN_ZOO_PERF_MODELS picks them; default every exported one).
  : >"$OUT/zoo_perf.log"
  for dir in "$models"/zoo_calibrated/*/; do
    name=$(basename "$dir")
    case " ${KILN_ZOO_PERF_MODELS:-$name} " in *" $name "*) ;; *) continue ;; esac
    # KILN_ZOO_PERF_DEPTHWISE="cudnn kiln" times both depthwise paths (layers/conv/depthwise_gpu.h).
    for dw in ${KILN_ZOO_PERF_DEPTHWISE:-kiln}; do
      line="zoo_perf $name (depthwise $dw):"
      for prec in fp16 fp32; do
        for batch in 1 32; do
          ms=$(bench_ms "$OUT/zoo_bench_${name}_${prec}_b${batch}_${dw}.json" "$OUT/zoo_perf.log" "$dir" "$batch" "$prec" \
               KILN_DEPTHWISE="$dw")
          line="$line $prec/b$batch $ms"
        done
      done
      note "$line ms"
    done
    echo "== $name batch 32 fp16" >>"$OUT/zoo_profile.log"
    "$KILN_BUILD/kiln" profile --model "$dir" --batch 32 --precision fp16 >>"$OUT/zoo_profile.log" 2>&1
  done
fi

if want depthwise_ab; then
  # Every depthwise path (GpuEngineOptions::depthwise, KILN_DEPTHWISE) on the models that have such
  # layers, random weights, kiln bench in fp16 and fp32 at KILN_DEPTHWISE_BATCHES (default 32).
  for name in ${KILN_DEPTHWISE_MODELS:-mobilenet_v2 efficientnet_b0 convnext_tiny}; do
    dir="$models/dw_$name"
    [ -f "$dir/model.yaml" ] || PYTHONPATH="$KILN_ROOT/exporter" "$py" -m kiln_export --model "kiln_export.zoo:$name" \
      --input-shape 1,3,224,224 --out "$dir" >>"$OUT/depthwise_ab.log" 2>&1
    for prec in ${KILN_DEPTHWISE_PRECISIONS:-fp16 fp32}; do
      for batch in ${KILN_DEPTHWISE_BATCHES:-32}; do
        line="depthwise $name $prec b$batch:"
        for mode in cudnn kiln auto; do
          ms=$(bench_ms "$OUT/dw_${name}_${prec}_b${batch}_${mode}.json" "$OUT/depthwise_ab.log" "$dir" "$batch" "$prec" \
               KILN_DEPTHWISE="$mode")
          line="$line $mode $ms"
        done
        note "$line ms"
      done
    done
  done
fi

if want imports; then
  # kiln and PyTorch in one process, both orders, with the wheel binding and without it (python/README.md).
  [ -d "$models/autoencoder" ] || PYTHONPATH="$KILN_ROOT/exporter" "$py" -m kiln_export --model kiln_export.zoo:autoencoder \
    --input-shape 1,3,64,64 --out "$models/autoencoder" >/dev/null 2>&1
  : >"$OUT/imports.log"
  for run in "kiln-first:" "torch-first:" "kiln-first:KILN_USE_SYSTEM_CUDA=1"; do
    order=${run%%:*}; env_set=${run#*:}
    echo "== $order ${env_set}" >>"$OUT/imports.log"
    # shellcheck disable=SC2086
    env $env_set PYTHONPATH="$KILN_BUILD/python" "$py" "$KILN_ROOT/scripts/import_order.py" "$order" \
      "$models/autoencoder" >>"$OUT/imports.log" 2>&1
    note "imports $order ${env_set:-(wheel binding)}: rc=$? $(tail -1 "$OUT/imports.log" | cut -c1-200)"
  done
fi

if want deconv_ab; then
  # Transposed convolutions as GEMM + scatter against cuDNN's data gradient (KILN_DECONV=dgrad), one binary.
  : >"$OUT/deconv_ab.log"
  for name in autoencoder unet; do
    [ -d "$models/$name" ] || continue
    for prec in fp32 fp16; do
      for batch in ${KILN_DECONV_BATCHES:-1 32}; do
        line="deconv $name $prec b$batch:"
        for mode in dgrad gemm; do
          ms=$(bench_ms "$OUT/deconv_${name}_${prec}_b${batch}_${mode}.json" "$OUT/deconv_ab.log" "$models/$name" "$batch" \
               "$prec" KILN_DECONV="$mode")
          line="$line $mode $ms ms"
        done
        note "$line"
      done
    done
  done
fi

if want direct_ab; then
  # Few-channel convolutions by kiln's direct kernel against cuDNN (KILN_DIRECT_CONV=cudnn|auto), one binary,
  # on the compare stage's models (exported here when missing); KILN_DIRECT_BATCHES (default 1 32),
  # KILN_DIRECT_PRECISIONS, KILN_DIRECT_MODES (default cudnn auto; kiln forces every candidate).
  : >"$OUT/direct_ab.log"
  mkdir -p "$models"
  for name in ${KILN_DIRECT_MODELS:-autoencoder unet resnet50}; do
    export_zoo "$name" "$OUT/direct_ab.log"
    for prec in ${KILN_DIRECT_PRECISIONS:-fp16 fp32}; do
      for batch in ${KILN_DIRECT_BATCHES:-1 32}; do
        line="direct $name $prec b$batch:"
        for mode in ${KILN_DIRECT_MODES:-cudnn auto}; do
          ms=$(bench_ms "$OUT/direct_${name}_${prec}_b${batch}_${mode}.json" "$OUT/direct_ab.log" "$models/$name" "$batch" \
               "$prec" KILN_DIRECT_CONV="$mode")
          line="$line $mode $ms ms"
        done
        note "$line"
      done
    done
  done
fi

if want plan_cache; then
  # Load to first result before and with the plan cache (Note [plan cache], formats/plan_cache.h): per model
  # and precision one kiln bench with KILN_PLAN_CACHE=off (memory only: what a load costs without a cache
  # directory), one on a fresh cache directory (cold: searched, compiled, written) and one on the same
  # directory again (warm). KILN_PLAN_CACHE_MODELS, KILN_PLAN_CACHE_PRECISIONS, KILN_PLAN_CACHE_BATCH (1).
  : >"$OUT/plan_cache.log"
  mkdir -p "$models"
  for name in ${KILN_PLAN_CACHE_MODELS:-autoencoder resnet18 resnet50 unet}; do
    export_zoo "$name" "$OUT/plan_cache.log"
    for prec in ${KILN_PLAN_CACHE_PRECISIONS:-fp16 fp32 tf32}; do
      dir="$OUT/plan_cache_dirs/${name}_$prec"
      rm -rf "$dir"
      for run in off cold warm; do
        cache="$dir"
        [ "$run" = off ] && cache=off
        "$KILN_BUILD/kiln" bench --model "$models/$name" --batch "${KILN_PLAN_CACHE_BATCH:-1}" --precision "$prec" \
          --no-transfers --cuda-graph --warmup-ms 50 --duration-s 0.3 --plan-cache "$cache" \
          --json "$OUT/plan_cache_${name}_${prec}_$run.json" >>"$OUT/plan_cache.log" 2>&1
      done
      line=$("$py" - "$OUT/plan_cache_${name}_${prec}" <<'PY'
import json, sys
parts = []
for run in ("off", "cold", "warm"):
    try:
        d = json.load(open(sys.argv[1] + "_" + run + ".json"))
    except Exception:
        parts.append(run + " ?")
        continue
    l, c = d["load"], d["plan_cache"]
    parts.append("%s %.0f ms (select %.0f, context %.0f; %d hits %d misses %d rejected; compute %.3f ms)" % (
        run, l["to_first_result_ms"], l["select_ms"], l["context_ms"], c["hits"], c["misses"], c["rejected"],
        (d.get("ms") or {}).get("compute", {}).get("median", float("nan"))))
print(" | ".join(parts))
PY
)
      note "plan cache $name $prec b${KILN_PLAN_CACHE_BATCH:-1}: $line"
    done
  done
fi

# One environment switch's before/after in one binary: for each model of MODELS (exported here from
# kiln_export.zoo when missing, at 3x224x224 unless it is the autoencoder or the U-Net), precision of
# PRECS and batch of BATCHES, one kiln bench per value of VAR; then a kiln profile per value at batch 32
# in fp16. Lines "TAG model prec bBATCH: VAR=value ms ..." go to the summary, logs to TAG_ab.log and
# TAG_profile.log.
env_ab() {  # TAG VAR "VALUES" "MODELS" "PRECS" "BATCHES"
  local tag=$1 var=$2 values=$3 names=$4 precs=$5 batches=$6 name shape prec batch value line ms
  : >"$OUT/${tag}_ab.log"
  mkdir -p "$models"
  for name in $names; do
    export_zoo "$name" "$OUT/${tag}_ab.log"
    for prec in $precs; do
      for batch in $batches; do
        line="$tag $name $prec b$batch:"
        for value in $values; do
          ms=$(bench_ms "$OUT/${tag}_${name}_${prec}_b${batch}_${value}.json" "$OUT/${tag}_ab.log" "$models/$name" \
               "$batch" "$prec" "$var=$value")
          line="$line $var=$value $ms ms"
        done
        note "$line"
      done
    done
    for value in $values; do
      echo "== $name batch 32 fp16 $var=$value" >>"$OUT/${tag}_profile.log"
      env "$var=$value" "$KILN_BUILD/kiln" profile --model "$models/$name" --batch 32 --precision fp16 \
        >>"$OUT/${tag}_profile.log" 2>&1
    done
  done
}

if want residual_ab; then
  # Residual add (+ its ReLU) folded into the convolution before it against the separate add kernel
  # (KILN_FUSE_RESIDUAL=0|1, engine/fusion.h) on models with residual blocks; KILN_RESIDUAL_MODELS,
  # KILN_RESIDUAL_PRECISIONS, KILN_RESIDUAL_BATCHES.
  env_ab residual KILN_FUSE_RESIDUAL "0 1" "${KILN_RESIDUAL_MODELS:-resnet18 resnet50 mobilenet_v2}" \
    "${KILN_RESIDUAL_PRECISIONS:-fp16 fp32}" "${KILN_RESIDUAL_BATCHES:-1 32}"
fi

if want im2col_ab; then
  # fp16 stems as im2col + GEMM against the direct kernel / cuDNN (KILN_IM2COL=off|auto, Note [stem
  # convolution as im2col GEMM]); KILN_IM2COL_MODELS, KILN_IM2COL_BATCHES.
  env_ab im2col KILN_IM2COL "off auto" "${KILN_IM2COL_MODELS:-resnet18 resnet50 mobilenet_v2 efficientnet_b0 autoencoder unet}" \
    fp16 "${KILN_IM2COL_BATCHES:-1 32}"
fi

if want algo_ab; then
  # The autotuner (--algo find: every fusion depth, the candidates of heuristics A, B and the fallback
  # list, each timed in a CUDA graph) against the heuristic choice, each from an empty plan cache so the
  # load time is the tuning's cost; KILN_ALGO_MODELS, KILN_ALGO_PRECISIONS, KILN_ALGO_BATCHES.
  : >"$OUT/algo_ab.log"
  mkdir -p "$models"
  for name in ${KILN_ALGO_MODELS:-resnet50 resnet18 autoencoder unet}; do
    export_zoo "$name" "$OUT/algo_ab.log"
    for prec in ${KILN_ALGO_PRECISIONS:-fp16 fp32}; do
      for batch in ${KILN_ALGO_BATCHES:-1 32}; do
        line="algo $name $prec b$batch:"
        for algo in heuristic find; do
          cache="$OUT/algo_cache/$name.$prec.b$batch.$algo"
          rm -rf "$cache"
          json="$OUT/algo_${name}_${prec}_b${batch}_${algo}.json"
          KILN_PLAN_CACHE="$cache" "$KILN_BUILD/kiln" bench --model "$models/$name" --batch "$batch" --precision "$prec" \
            --algo "$algo" --no-transfers --cuda-graph --warmup-ms 100 --duration-s 0.5 --json "$json" >>"$OUT/algo_ab.log" 2>&1
          line="$line $algo $("$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print('%.3f ms (load %.1f s)' % (d['ms']['compute']['median'], d['load']['to_first_result_ms'] / 1e3))" "$json" 2>/dev/null || echo "?")"
        done
        note "$line"
      done
    done
    echo "== $name batch 32 fp16 find" >>"$OUT/algo_profile.log"
    KILN_PLAN_CACHE="$OUT/algo_cache/$name.fp16.b32.find" "$KILN_BUILD/kiln" profile --model "$models/$name" --batch 32 \
      --precision fp16 --algo find >>"$OUT/algo_profile.log" 2>&1
  done
fi

if want transforms; then
  # fp32 with cuDNN's FFT and Winograd engines admitted (KILN_FP32_TRANSFORMS=1, issue 9 item 6): the
  # error against the export's golden outputs (PyTorch on the CPU; the compare stage's fp32 tolerances)
  # and the time against the exact fp32 mode. KILN_TRANSFORMS_MODELS, KILN_TRANSFORMS_BATCHES.
  : >"$OUT/transforms.log"
  for name in ${KILN_TRANSFORMS_MODELS:-autoencoder resnet18 resnet50 unet}; do
    export_zoo "$name" "$OUT/transforms.log"
    for value in 0 1; do
      KILN_FP32_TRANSFORMS=$value "$KILN_BUILD/kiln" compare --model "$models/$name" --device gpu --precision fp32 \
        --atol 1e-4 --rtol 1e-5 --json "$OUT/transforms_$name.$value.json" >"$OUT/transforms_run.log" 2>&1
      rc=$?
      cat "$OUT/transforms_run.log" >>"$OUT/transforms.log"
      note "transforms $name fp32 KILN_FP32_TRANSFORMS=$value: rc=$rc $(grep -E '^output |error' "$OUT/transforms_run.log" | tail -1 | cut -c1-200)"
    done
    for batch in ${KILN_TRANSFORMS_BATCHES:-1 32}; do
      line="transforms $name fp32 b$batch:"
      for value in 0 1; do
        ms=$(bench_ms "$OUT/transforms_${name}_b${batch}_${value}.json" "$OUT/transforms.log" "$models/$name" \
             "$batch" fp32 "KILN_FP32_TRANSFORMS=$value")
        line="$line KILN_FP32_TRANSFORMS=$value $ms ms"
      done
      note "$line"
    done
  done
fi

if want multi_gpu; then
  # Issue 14's measurement: `kiln bench --devices` over every visible GPU against one GPU, fp16 at batch 32
  # (KILN_MULTI_MODELS, KILN_MULTI_BATCH, KILN_MULTI_STREAMS), each with --streams contexts per device and
  # no transfers; the scaling is total qps over the one-GPU qps (issue 14's target: >= 1.9 x on two).
  : >"$OUT/multi_gpu.log"
  count=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)
  all=$(seq -s, 0 $((count - 1)))
  note "multi_gpu: $count GPU(s) visible, --devices $all"
  for name in ${KILN_MULTI_MODELS:-resnet50 autoencoder}; do
    export_zoo "$name" "$OUT/multi_gpu.log"
    for devs in 0 "$all"; do
      "$KILN_BUILD/kiln" bench --model "$models/$name" --batch "${KILN_MULTI_BATCH:-32}" --precision fp16 \
        --no-transfers --cuda-graph --devices "$devs" --streams "${KILN_MULTI_STREAMS:-2}" --warmup-ms 200 \
        --duration-s 2 --json "$OUT/multi_${name}_${devs//,/_}.json" >>"$OUT/multi_gpu.log" 2>&1
    done
    note "multi_gpu $name fp16 b${KILN_MULTI_BATCH:-32}: $("$py" - "$OUT/multi_${name}_0.json" "$OUT/multi_${name}_${all//,/_}.json" <<'PY' 2>&1 | tail -1
import json, sys
try:
    one, many = (json.load(open(p)) for p in sys.argv[1:3])
except (OSError, ValueError) as e:
    print("a run failed (%s); see multi_gpu.log" % e)
    sys.exit(0)
per = ", ".join("gpu %d %.1f" % (d["device"], d["throughput_qps"]) for d in many.get("devices", []))
print("1 gpu %.1f qps; all %.1f qps (%s); scaling %.2f x" % (
    one["throughput_qps"], many["throughput_qps"], per, many["throughput_qps"] / one["throughput_qps"]))
PY
)"
  done
fi

if want cudnn_ab; then
  # kiln built against a second cuDNN next to the one it links (issue 9 item 7: PyTorch's own cuDNN, the
  # nvidia-cudnn wheel under site-packages/nvidia/cudnn, so the comparison with PyTorch is like for like).
  # KILN_CUDNN_ROOT overrides where it is. The second build (kiln only) goes to /tmp/kiln_cudnn_ab and runs
  # with LD_LIBRARY_PATH on that tree's lib/, since cuDNN loads its engine libraries by name. Each
  # binary's runtime cuDNN (its bench "device" line) is logged. KILN_CUDNN_AB_MODELS, _PRECISIONS, _BATCHES.
  : >"$OUT/cudnn_ab.log"
  root="${KILN_CUDNN_ROOT:-$("$py" -c "import nvidia.cudnn as c; print(list(c.__path__)[0])" 2>/dev/null)}"
  second=/tmp/kiln_cudnn_ab
  if [ -z "$root" ] || [ ! -d "$root/lib" ]; then
    note "cudnn_ab: no second cuDNN found (KILN_CUDNN_ROOT, or python's nvidia.cudnn)"
  elif ! { cmake -S "$KILN_ROOT" -B "$second" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
             -DCUDNN_ROOT="$root" -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF -DKILN_PYTHON="$py" &&
           cmake --build "$second" --target kiln -j "$(nproc)"; } >"$OUT/cudnn_ab_build.log" 2>&1; then
    note "cudnn_ab: the build against $root FAILED (cudnn_ab_build.log)"
  else
    note "cudnn_ab: $(grep -m1 'kiln: CUDA' "$OUT/cudnn_ab_build.log" | sed 's/^-- //') from $root"
    mkdir -p "$models"
    for name in ${KILN_CUDNN_AB_MODELS:-autoencoder resnet18 resnet50 unet}; do
      export_zoo "$name" "$OUT/cudnn_ab.log"
      for prec in ${KILN_CUDNN_AB_PRECISIONS:-fp16 fp32}; do
        for batch in ${KILN_CUDNN_AB_BATCHES:-1 32}; do
          a=$(bench_ms "$OUT/cudnn_ab_${name}_${prec}_b${batch}_linked.json" "$OUT/cudnn_ab.log" "$models/$name" \
              "$batch" "$prec")
          b=$(KILN_BUILD="$second" LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" bench_ms \
              "$OUT/cudnn_ab_${name}_${prec}_b${batch}_second.json" "$OUT/cudnn_ab.log" "$models/$name" "$batch" "$prec")
          note "cudnn_ab $name $prec b$batch: linked $a ms, second $b ms"
        done
      done
    done
    for which in linked second; do  # the cuDNN each binary ran with, as its bench reports it
      f=$(ls "$OUT"/cudnn_ab_*_"$which".json 2>/dev/null | head -1)
      [ -n "$f" ] && note "  $which: $("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['device_description'])" "$f")"
    done
  fi
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
  # KILN_PROFILE_SPECS (model:batch ...) and KILN_PROFILE_PRECISIONS narrow it; the environment's
  # KILN_DIRECT_CONV / KILN_DEPTHWISE / KILN_DECONV reach kiln profile.
  for spec in ${KILN_PROFILE_SPECS:-autoencoder:32 unet:32 resnet50:32}; do
    name=${spec%%:*}; batch=${spec#*:}
    [ -d "$models/$name" ] || continue
    for prec in ${KILN_PROFILE_PRECISIONS:-fp32 tf32 fp16}; do
      echo "== $name batch $batch $prec" >>"$OUT/profile.log"
      "$KILN_BUILD/kiln" profile --model "$models/$name" --batch "$batch" --precision "$prec" \
        --json "$OUT/profile_$name.$prec.json" >>"$OUT/profile.log" 2>&1
    done
  done
  note "profiles: profile.log ($(grep -c '^==' "$OUT/profile.log" 2>/dev/null) runs)"
fi

if want ab; then
  wait  # the baseline build, if it was started in the background
  if [ -x "$ab_build/kiln" ]; then
    list=""
    for name in autoencoder resnet18 resnet50 unet; do [ -d "$models/$name" ] && list="$list${list:+,}$models/$name"; done
    # shellcheck disable=SC2086
    "$py" "$KILN_ROOT/benchmarks/ab_bench.py" --a "$ab_build/kiln" --b "$KILN_BUILD/kiln" --models "$list" \
      --label-a before --label-b after --out "$OUT/ab.md" ${KILN_AB_ARGS:-} >"$OUT/ab.log" 2>&1
    note "ab bench: rc=$?"
    sed 's/^/  /' "$OUT/ab.md" >>"$summary"
  else
    note "ab bench: no baseline build (set KILN_AB_BASELINE; see ab_build.log)"
  fi
fi

if want dynamic; then
  # Dynamic height × width (exporter --dynamic-hw): the autoencoder and the U-Net exported once, one
  # context through sizes up to 1080×1920 and changing batches, against PyTorch in fp32 and fp16; then
  # kiln bench per size of the dynamic export against a fixed export of that size
  # (benchmarks/dynamic_bench.py: the new size's build, the steady state, the arena).
  for prec in ${KILN_DYNAMIC_PRECISIONS:-fp32 fp16}; do
    PYTHONPATH="$KILN_BUILD/python:$KILN_ROOT/exporter" "$py" "$KILN_ROOT/tests/e2e/dynamic_shapes.py" \
      --kiln "$KILN_BUILD/kiln" --work "$OUT/dynamic_$prec" --device gpu --precision "$prec" \
      --json "$OUT/dynamic_$prec.json" >"$OUT/dynamic_$prec.log" 2>&1
    note "dynamic $prec: $(tail -1 "$OUT/dynamic_$prec.log")"
  done
  "$py" "$KILN_ROOT/benchmarks/dynamic_bench.py" --kiln "$KILN_BUILD/kiln" --work "$OUT/dynamic_bench" \
    --out "$OUT/dynamic_bench.md" --json "$OUT/dynamic_bench.json" ${KILN_DYNAMIC_BENCH_ARGS:-} \
    >"$OUT/dynamic_bench.log" 2>&1
  note "dynamic bench: $( (grep '^| [a-z]' "$OUT/dynamic_bench.md" 2>/dev/null || true) | grep -vc '^| model ' || true) rows in dynamic_bench.md"
fi

wait  # a baseline build started in the background must end before this call does
pack
echo "==== summary"
cat "$summary"
