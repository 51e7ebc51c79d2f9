#include "engine/gpu/engine_options.h"

#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "formats/plan_cache.h"

namespace kiln::gpu {

Precision parse_precision(const std::string& s) {
  if (s == "fp32") return Precision::Fp32;
  if (s == "tf32") return Precision::Tf32;
  if (s == "fp16") return Precision::Fp16;
  throw UsageError("precision: expected fp32, tf32 or fp16, got '" + s + "'");
}

AlgoMode parse_algo_mode(const std::string& s) {
  if (s == "heuristic") return AlgoMode::Heuristic;
  if (s == "find") return AlgoMode::Find;
  throw UsageError("algorithm mode: expected heuristic or find, got '" + s + "'");
}

namespace {

// The value the environment variable `name` picks among `choices` (name, value), `fallback` when it is
// unset. Throws UsageError naming the variable and the choices for anything else.
template <class E>
E env_choice(const char* name, E fallback, const std::vector<std::pair<const char*, E>>& choices) {
  const char* set = std::getenv(name);
  if (!set) return fallback;
  std::string names;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (std::strcmp(set, choices[i].first) == 0) return choices[i].second;
    names += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + std::string(choices[i].first);
  }
  throw UsageError(std::string(name) + ": expected " + names + ", got '" + set + "'");
}

}  // namespace

std::string default_plan_cache_directory() { return PlanCache::default_directory(); }

GpuEngineOptions engine_options_from(const std::string& precision, const std::string& algo,
                                     std::int64_t workspace_mb, const std::string& plan_cache,
                                     const std::string& fp32_layers) {
  GpuEngineOptions o;
  if (plan_cache == "off") {
    o.plan_cache.clear();
  } else if (!plan_cache.empty()) {
    o.plan_cache = plan_cache;
  }
  o.precision = parse_precision(precision);
  o.algo = parse_algo_mode(algo);
  if (!fp32_layers.empty() && o.precision != Precision::Fp16) {
    throw UsageError("--fp32-layers: keeps layers of an fp16 engine in float32; with --precision " + precision +
                     " every layer already is " + precision);
  }
  o.fp32_layers = fp32_layers;
  if (workspace_mb < 0 || workspace_mb > (std::int64_t{1} << 30)) {
    throw UsageError("--workspace-mb: expected a size in MiB from 0 to 2^30, got " + std::to_string(workspace_mb));
  }
  o.workspace_cap_bytes = static_cast<std::uint64_t>(workspace_mb) << 20;
  o.deconv = env_choice("KILN_DECONV", o.deconv, {{"auto", DeconvAlgo::Auto}, {"gemm", DeconvAlgo::Gemm},
                                                 {"dgrad", DeconvAlgo::DataGradient}});
  o.depthwise = env_choice("KILN_DEPTHWISE", o.depthwise, {{"auto", DepthwiseAlgo::Auto}, {"kiln", DepthwiseAlgo::Kiln},
                                                          {"cudnn", DepthwiseAlgo::Cudnn}});
  o.direct_conv = env_choice("KILN_DIRECT_CONV", o.direct_conv,
                             {{"auto", DirectConvAlgo::Auto}, {"kiln", DirectConvAlgo::Kiln}, {"cudnn", DirectConvAlgo::Cudnn}});
  o.im2col = env_choice("KILN_IM2COL", o.im2col, {{"auto", Im2colAlgo::Auto}, {"gemm", Im2colAlgo::Gemm},
                                                 {"off", Im2colAlgo::Off}});
  o.fuse_residual = env_choice("KILN_FUSE_RESIDUAL", o.fuse_residual, {{"1", true}, {"0", false}});
  o.fp32_transforms = env_choice("KILN_FP32_TRANSFORMS", o.fp32_transforms, {{"1", true}, {"0", false}});
  return o;
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::Fp32:
      return "fp32";
    case Precision::Tf32:
      return "tf32";
    case Precision::Fp16:
      return "fp16";
  }
  return "?";
}

const char* algo_mode_name(AlgoMode m) { return m == AlgoMode::Heuristic ? "heuristic" : "find"; }

}  // namespace kiln::gpu
