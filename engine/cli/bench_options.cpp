#include "engine/cli/bench_options.h"

#include "base/errors.h"
#include "engine/bench/bench.h"
#include "engine/cli/device_options.h"
#include "engine/cli/options.h"
#include "engine/model_dir.h"
#include "engine/runner.h"
#include "formats/model_spec.h"

namespace kiln {

void add_bench_options(CLI::App& cmd, BenchCliOptions& o, const std::string& iterations_help) {
  bench::BenchConfig& c = o.config;
  c.device = "auto";
  c.precision = "fp32";
  c.algo = "heuristic";
  c.batch = 0;
  add_model_option(cmd, c.model);
  cli::add_choice(cmd, "--device", {"auto", "cpu", "gpu"}, c.device,
                  "where to run; auto = the GPU when one is present (cpu: the reference path, host-timed latency "
                  "only)");
  cli::add_choice(cmd, "--precision", {"fp32", "tf32", "fp16"}, c.precision,
                  "GPU arithmetic: fp32 exact float32, tf32 tensor cores (~1e-3 relative), fp16 half NHWC tensor "
                  "cores");
  cli::add_choice(cmd, "--algo", {"heuristic", "find"}, c.algo,
                  "convolution algorithms: cuDNN heuristics (fast start) or time every candidate at load");
  cli::add_int(cmd, "--workspace-mb", "MiB", o.workspace_mb, "largest cuDNN workspace one layer may use");
  cli::add_int(cmd, "--batch", "N", c.batch, "batch to run (0 = the --input file's, else the one in model.yaml)");
  cli::add_string(cmd, "--input", "FILE", c.input_file,
                  "input tensors (.manifest + .bin, names as the model's inputs, shape at --batch)")
      ->default_str("random, uniform in [-1, 1]");
  cli::add_double(cmd, "--warmup-ms", "MS", c.warmup_ms,
                  "run this long before measuring (first runs load kernels and fill caches)");
  cli::add_int(cmd, "--iterations", "N", c.iterations, iterations_help);
  cli::add_double(cmd, "--duration-s", "S", c.duration_s,
                  "and measure for at least this many seconds (0 = just --iterations)");
}

void resolve_bench_options(BenchCliOptions& o, bool gpu_only) {
  bench::BenchConfig& c = o.config;
  if (gpu_only) {
    std::string why_not;
    if (c.device == "cpu" || !gpu_available(&why_not)) {
      throw UsageError(std::string("needs a GPU: it times every layer with CUDA events (") +
                       (c.device == "cpu" ? "--device cpu was given" : "no usable GPU: " + why_not) +
                       "); `kiln bench --device cpu` times the CPU reference path");
    }
    c.device = "gpu";
  } else {
    c.device = resolve_device(c.device);
  }
  if (c.batch < 0) throw UsageError("--batch: expected 0 (the model's) or more, got " + std::to_string(c.batch));
  if (c.batch == 0 && !c.input_file.empty()) {
    c.batch = input_batch(c.model, read_host_tensors(c.input_file), c.input_file);
  }
  if (c.batch == 0) {
    const ModelSpec spec = read_model(resolve_model_yaml(c.model));
    c.batch = spec.inputs.at(0).shape.at(0);
  }
  bench::check_config(c);
}

}  // namespace kiln
