#include "engine/gpu/engine_options.h"

#include <cstdlib>
#include <cstring>

#include "base/errors.h"

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

GpuEngineOptions engine_options_from(const std::string& precision, const std::string& algo,
                                     std::int64_t workspace_mb) {
  GpuEngineOptions o;
  o.precision = parse_precision(precision);
  o.algo = parse_algo_mode(algo);
  if (workspace_mb < 0 || workspace_mb > (std::int64_t{1} << 30)) {
    throw UsageError("--workspace-mb: expected a size in MiB from 0 to 2^30, got " + std::to_string(workspace_mb));
  }
  o.workspace_cap_bytes = static_cast<std::uint64_t>(workspace_mb) << 20;
  if (const char* deconv = std::getenv("KILN_DECONV")) {
    if (std::strcmp(deconv, "dgrad") == 0) {
      o.deconv = DeconvAlgo::DataGradient;
    } else if (std::strcmp(deconv, "gemm") == 0) {
      o.deconv = DeconvAlgo::Gemm;
    } else if (std::strcmp(deconv, "auto") != 0) {
      throw UsageError(std::string("KILN_DECONV: expected auto, gemm or dgrad, got '") + deconv + "'");
    }
  }
  if (const char* depthwise = std::getenv("KILN_DEPTHWISE")) {
    if (std::strcmp(depthwise, "kiln") == 0) {
      o.depthwise = DepthwiseAlgo::Kiln;
    } else if (std::strcmp(depthwise, "cudnn") == 0) {
      o.depthwise = DepthwiseAlgo::Cudnn;
    } else if (std::strcmp(depthwise, "auto") != 0) {
      throw UsageError(std::string("KILN_DEPTHWISE: expected auto, kiln or cudnn, got '") + depthwise + "'");
    }
  }
  if (const char* direct = std::getenv("KILN_DIRECT_CONV")) {
    if (std::strcmp(direct, "kiln") == 0) {
      o.direct_conv = DirectConvAlgo::Kiln;
    } else if (std::strcmp(direct, "cudnn") == 0) {
      o.direct_conv = DirectConvAlgo::Cudnn;
    } else if (std::strcmp(direct, "auto") != 0) {
      throw UsageError(std::string("KILN_DIRECT_CONV: expected auto, kiln or cudnn, got '") + direct + "'");
    }
  }
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
