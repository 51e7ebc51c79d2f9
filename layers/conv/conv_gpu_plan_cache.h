// How convolutions use the plan cache (Note [plan cache], formats/plan_cache.h). Two kinds of entry:
//   conv-select  what ConvOp chose at load for a layer (fusion depth, engine config, workspace), keyed
//                by the full-epilogue graph, the algorithm mode and the workspace cap: a hit skips the
//                search, and with it every candidate's compilation;
//   conv-plan    a finalized execution plan in cuDNN's serialized form, keyed by its graph and engine
//                config: a hit replaces finalize (for runtime-compiled engines, an NVRTC compile of
//                0.1-1 s) by deserialization.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/gpu/plan_cache_gpu.h"
#include "layers/conv/conv_gpu_graph.h"

namespace kiln::gpu {

struct ConvSelection {
  int fused = 0;  // how many epilogue steps the graph holds
  bool from_fallback = false;
  EngineChoice choice;
  std::uint64_t workspace = 0;
  double measured_ms = -1.0;
};

// "fused=1 fallback=0 workspace=131 ms=-1 choice=eng41_k2=1", and the reverse: nullopt unless the text
// is exactly that form with fused in 0..max_fused and workspace within `cap`.
std::string encode_selection(const ConvSelection& s);
std::optional<ConvSelection> decode_selection(const std::string& text, int max_fused, std::uint64_t cap);

// The conv-plan key of the graph `desc` run by `choice`.
std::string conv_plan_key(const PlanCacheRef& plans, const ConvGraphDesc& desc, const EngineChoice& choice);

// The cached plan for `key` bound to `handle`, if there is one that cuDNN accepts and that needs at most
// `workspace_limit` bytes; a text cuDNN refuses is rejected in the cache (so the caller's rebuilt plan
// replaces it). `*known` is set when the cache held a usable entry, including the empty one that says
// the plan is built from its recipe (an engine cuDNN does not serialize): the caller need not store it.
std::optional<ConvPlan> cached_conv_plan(const PlanCacheRef& plans, cudnnHandle_t handle, const std::string& key,
                                         const EngineChoice& choice, std::uint64_t workspace_limit, bool* known);

// Stores `plan` under `key`: its serialized form, or for an engine cuDNN does not serialize (one whose
// finalize compiles nothing) an empty entry, so that later loads know there is nothing to look for;
// nothing when cuDNN could not be asked (serialize_plan's nullopt): a later load asks again.
void store_conv_plan(const PlanCacheRef& plans, const std::string& key, const ConvPlan& plan);

}  // namespace kiln::gpu
