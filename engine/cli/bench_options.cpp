#include "engine/cli/bench_options.h"

#include "engine/bench/bench.h"
#include "engine/runner.h"
#include "base/errors.h"
#include "engine/model_dir.h"
#include "formats/model_spec.h"

namespace kiln {

void add_bench_options(OptionParser& p, BenchCliOptions& o, const std::string& iterations_help) {
  bench::BenchConfig& c = o.config;
  c.device = "auto";
  c.precision = "fp32";
  c.algo = "heuristic";
  c.batch = 0;
  p.add_string("model", "DIR", "model folder (or its model.yaml)", &c.model, true);
  p.add_choice("device", {"auto", "cpu", "gpu"},
               "where to run; auto = the GPU when one is present (cpu: the reference path, host-timed latency only)",
               &c.device);
  p.add_choice("precision", {"fp32", "tf32", "fp16"},
               "GPU arithmetic: fp32 exact float32, tf32 tensor cores (~1e-3 relative), fp16 half NHWC tensor cores",
               &c.precision);
  p.add_choice("algo", {"heuristic", "find"},
               "convolution algorithms: cuDNN heuristics (fast start) or time every candidate at load", &c.algo);
  p.add_int("workspace-mb", "MiB", "largest cuDNN workspace one layer may use", &o.workspace_mb);
  p.add_int("batch", "N", "batch to run (0 = the --input file's, else the one in model.yaml)", &c.batch);
  p.add_string("input", "FILE",
               "input tensors (.manifest + .bin, names as the model's inputs, shape at --batch); default random "
               "uniform [-1, 1]",
               &c.input_file);
  p.add_double("warmup-ms", "MS", "run this long before measuring (first runs load kernels and fill caches)",
               &c.warmup_ms);
  p.add_int("iterations", "N", iterations_help, &c.iterations);
  p.add_double("duration-s", "S", "and measure for at least this many seconds (0 = just --iterations)", &c.duration_s);
}

void resolve_bench_options(BenchCliOptions& o, bool gpu_only) {
  bench::BenchConfig& c = o.config;
  std::string why_not;
  const bool gpu = gpu_available(&why_not);
  if (c.device == "auto") c.device = gpu ? "gpu" : "cpu";
  if (c.device == "gpu" && !gpu) throw UsageError("--device gpu: no usable GPU: " + why_not);
  if (gpu_only && c.device != "gpu") {
    throw UsageError(std::string("needs a GPU: it times with CUDA events (") +
                     (gpu ? "--device cpu was given" : "no usable GPU: " + why_not) + "); `kiln bench --device cpu` " +
                     "times the CPU reference path");
  }
  if (c.batch < 0) throw UsageError("--batch: expected 0 (the model's) or more, got " + std::to_string(c.batch));
  if (c.batch == 0 && !c.input_file.empty()) {
    const std::vector<HostTensor> tensors = read_host_tensors(c.input_file);
    if (tensors.empty() || tensors.front().shape.empty()) {
      throw UsageError(c.input_file + ": holds no tensor with a batch dimension");
    }
    c.batch = tensors.front().shape[0];
  }
  if (c.batch == 0) {
    const ModelSpec spec = read_model(resolve_model_yaml(c.model));
    c.batch = spec.inputs.at(0).shape.at(0);
  }
  bench::check_config(c);
}

}  // namespace kiln
