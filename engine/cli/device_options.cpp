#include "engine/cli/device_options.h"

#include "base/errors.h"
#include "engine/cli/options.h"
#include "engine/cli/path_checks.h"

namespace kiln {

void add_model_option(CLI::App& cmd, std::string& model) {
  cli::add_string(cmd, "--model", "DIR", model, "model folder written by kiln_export (or its model.yaml)")
      ->required()
      ->check(cli::kiln_model_path());
}

void add_device_options(CLI::App& cmd, RunnerOptions& o) {
  cli::add_choice(cmd, "--device", {"auto", "cpu", "gpu"}, o.device,
                  "where to run; auto = the GPU when one is present");
  cli::add_choice(cmd, "--precision", {"fp32", "tf32", "fp16"}, o.precision,
                  "GPU arithmetic: fp32 is exact float32 (TF32 off); tf32 allows tensor cores (~1e-3 relative); "
                  "fp16 stores half NHWC activations, float accumulation (~1e-3 relative)");
  cli::add_choice(cmd, "--algo", {"heuristic", "find"}, o.algo,
                  "GPU convolution algorithm choice: cuDNN heuristics (fast start) or find, the autotuner (times every "
                  "candidate engine and fusion depth in a CUDA graph at load; slower start, kept by the plan cache)");
  cli::add_int(cmd, "--workspace-mb", "MiB", o.workspace_mb, "largest cuDNN workspace one layer may use");
  cli::add_string(cmd, "--fp32-layers", "SPEC", o.fp32_layers,
                  "fp16 only: layers kept in float32 (their inputs converted at the boundary), for a network whose stem amplifies half rounding: N (the first N layers), ..NAME (up to and including NAME), PREFIX*, or NAME, comma-separated; compare also takes auto (searches the fewest leading layers for --max-rel-l2)")
      ->default_str("none");
  cli::add_string(cmd, "--plan-cache", "DIR|off", o.plan_cache, "where the plan cache lives: a directory, or off (memory only); chosen engines and compiled cuDNN plans are reused from it by later loads on the same GPU and libraries")
      ->default_str("$KILN_PLAN_CACHE, else ~/.cache/kiln/plans");
}

void add_allow_extra_inputs(CLI::App& cmd, bool& allow) {
  cli::add_flag(cmd, "--allow-extra-inputs", allow,
                "warn about, instead of refusing, tensors in the inputs file that are not model inputs");
}

std::string resolve_device(const std::string& device) {
  if (device == "cpu") return device;
  std::string why_not;
  const bool gpu = gpu_available(&why_not);
  if (device == "gpu" && !gpu) {
    throw UsageError("--device gpu: no usable GPU: " + why_not + "; --device cpu runs the CPU reference path");
  }
  return gpu ? "gpu" : "cpu";
}

}  // namespace kiln
