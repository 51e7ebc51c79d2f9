// Mixed precision for half engines (CUDA-free, so CI tests it): which layers of an fp16 engine keep
// float32, which tensors are stored how, and where a tensor is converted for a reader of the other kind.
//
// Note [mixed precision]
// Half storage loses ~2^-11 of every activation; some networks amplify that rounding layer by layer
// until a random-weight MobileNet-V2 or FCN misses fp16's 1e-2 error bound (benchmarks/NOTES.md,
// 2026-12-07: the stem layers contribute the most). GpuEngineOptions::fp32_layers keeps chosen layers of
// an fp16 engine in float32: they run as in an fp32 engine (NCHW float, their own algorithms and
// weights), every other layer as in fp16 (NHWC half). The rules:
//  - A layer folded into another (an activation, a residual add: engine/fusion.h) runs as its producer,
//    since its work is its producer's epilogue.
//  - A view of its input (flatten where its layout allows) takes its input's precision: a view cannot
//    change how the bytes are stored.
//  - A tensor is stored as its producer runs; a network input in float32 when any of its readers runs
//    in float32 (so that reader sees the caller's values exactly), else half (the context converts the
//    caller's float32 NCHW to that).
//  - A reader of the other kind reads a converted copy, made just before the first such reader runs
//    (one copy per tensor and kind, alive until its last such reader) — a skip link from a float32 stem
//    into a half block is converted once. The copies are extra tensors of the engine's memory plan,
//    numbered after the graph's own.
// Model outputs reach the caller as float32 either way.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/fusion.h"
#include "engine/graph.h"
#include "engine/planner.h"

namespace kiln {

// The layers `spec` names (true = keep in float32), one entry per layer of `graph`. The spec is a
// comma-separated list of items, each one of
//   N         the first N layers in execution order (0 ≤ N ≤ the layer count)
//   ..NAME    every layer from the first up to and including layer NAME
//   PREFIX*   every layer whose name starts with PREFIX ("*": every layer)
//   NAME      the layer NAME
// "" selects none. Throws UsageError naming the item for an empty item, a bad count or a name (or
// prefix) no layer has.
std::vector<bool> select_layers(const Graph& graph, const std::string& spec);

// A converted copy of a tensor, made before layer `step` runs and alive until `last_step` (its last reader).
struct PrecisionConversion {
  int step = 0;
  int last_step = 0;
  int source = -1;  // the tensor converted (a graph tensor)
  int copy = -1;    // the copy's tensor index (≥ the graph's tensor count)
  bool to_fp32 = false;
};

struct MixedPrecisionPlan {
  std::vector<bool> layer_fp32;   // per layer: runs in float32
  std::vector<bool> tensor_fp32;  // per tensor (the graph's, then the copies'): stored as float32
  std::vector<PrecisionConversion> conversions;  // in ascending step order
  // Per layer: the tensors it reads, in its input order, a copy where the source is of the other kind.
  std::vector<std::vector<int>> inputs;
  // Per layer: the tensor its folded residual add reads (FusionPlan::residual), or its copy; -1 for none.
  std::vector<int> residual;

  // True when some layer runs in float32 (copies exist only then).
  bool any_fp32() const;
};

// Applies the rules of Note [mixed precision] to `selected` (per layer, as select_layers gives) under
// `fusion`; `is_view[i]` says layer i's output is declared a view of its input 0 (in the precision
// `selected` gives it). No selected layer: every layer half, no conversions, inputs as the graph's.
// Throws UsageError when a vector's length is not the layer count.
MixedPrecisionPlan plan_mixed_precision(const Graph& graph, const FusionPlan& fusion, std::vector<bool> selected,
                                        const std::vector<bool>& is_view);

// The smallest N in 0..layer_count for which `passes(N)` (the first N layers in float32 meet the
// accuracy bound) holds, by bisection: passes(0) first (all half may already pass), then
// passes(layer_count), then halving the interval between the largest failing and smallest passing N
// seen, so about log2(layer_count) + 2 evaluations. It assumes that more float32 layers never make the
// result worse, which holds in the large (every layer float32 is the fp32 engine) but not exactly: the N
// returned passed, and every smaller N it tried failed. -1 when even every layer in float32 fails.
// `trials`, when given, receives every (N, passed) in the order evaluated.
int smallest_passing_prefix(int layer_count, const std::function<bool(int)>& passes,
                            std::vector<std::pair<int, bool>>* trials = nullptr);

// Throws UsageError when `selected` names layers but none of them runs in float32 under `plan` (each is
// folded into a half producer or is a view of a half tensor), naming the first such layer and what it
// runs with: such a spec would silently give the plain fp16 engine.
void check_selection_takes_effect(const Graph& graph, const FusionPlan& fusion, const std::vector<bool>& selected,
                                  const MixedPrecisionPlan& plan);

// The lifetimes of the graph's tensors (Graph::plan_tensors) followed by the copies', sizes left 0.
std::vector<PlanTensor> plan_tensors_with_copies(const Graph& graph, const MixedPrecisionPlan& plan);

}  // namespace kiln
