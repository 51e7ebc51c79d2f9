// The GPU side of the plan cache (Note [plan cache], formats/plan_cache.h): what every key says about
// the device and the libraries, and cuDNN execution plans to and from their serialized (JSON) form.
#pragma once

#include <cudnn.h>

#include <optional>
#include <string>

#include "engine/gpu/backend.h"
#include "formats/plan_cache.h"

namespace kiln::gpu {

// Bumped whenever what kiln stores in the cache changes meaning or kiln's engine policy changes (which
// engines a precision admits, the fallback order): older entries become other keys. The kiln version is
// in the key too.
constexpr int kPlanCacheFormat = 2;  // 2: find mode became the autotuner (2026-12-07)

// "NVIDIA H200|sm=132|cc=9.0|driver=580.159.04|cuda-driver=13000|cudart=13000|cudnn=91400|kiln=0.1.0|kiln-plans=1":
// the GPU by name, SM count and compute capability; the kernel driver's version (from
// /proc/driver/nvidia/version where there is one) and the CUDA driver and runtime versions; cuDNN's
// version as loaded at run time (not as compiled against). Throws CudaError for a bad device.
std::string device_fingerprint(int device);

// What the ops of one engine share: the cache (null: none) and the key prefix naming the device,
// libraries, precision and algorithm mode. key() prefixes `what` with the entry's kind and the scope.
struct PlanCacheRef {
  PlanCache* cache = nullptr;
  std::string scope;
  std::string key(const char* kind, const std::string& what) const { return std::string(kind) + "|" + scope + "|" + what; }
};

// The plan's serialized form (cuDNN serializes the plans of its runtime-compiled engines, the ones whose
// finalize compiles: those are the ones worth caching); "" when cuDNN answers that it does not serialize
// this plan (a BAD_PARAM or NOT_SUPPORTED status: a fact about the engine, worth remembering); nullopt
// when the query failed otherwise (out of memory, an internal error), which says nothing about the engine.
std::optional<std::string> serialize_plan(const BackendDescriptor& plan);

// A finalized execution plan from serialize_plan's text, bound to `handle`'s device. Throws CudnnError
// when cuDNN refuses the text (damaged, or from another GPU or library build).
BackendDescriptor deserialize_plan(cudnnHandle_t handle, const std::string& json);

}  // namespace kiln::gpu
