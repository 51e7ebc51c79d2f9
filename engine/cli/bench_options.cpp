#include "engine/cli/bench_options.h"

#include "base/errors.h"
#include "engine/bench/bench.h"
#include "engine/cli/device_options.h"
#include "engine/cli/options.h"
#include "engine/model_dir.h"
#include "engine/runner.h"
#include "formats/model_spec.h"

namespace kiln {

std::vector<std::int64_t> parse_hw(const std::string& text, const std::string& option) {
  const std::size_t x = text.find('x');
  const auto number = [&](const std::string& part) -> std::int64_t {
    if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(part);
  };
  const std::int64_t h = x == std::string::npos ? -1 : number(text.substr(0, x));
  const std::int64_t w = x == std::string::npos ? -1 : number(text.substr(x + 1));
  if (h < 1 || w < 1) {
    throw UsageError(option + ": expected HEIGHTxWIDTH like 1080x1920, got '" + text + "'");
  }
  return {h, w};
}

std::vector<int> parse_device_list(const std::string& text, const std::string& option) {
  std::vector<int> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part.empty() || part.size() > 4 || part.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(part) > 1023 || out.size() == 16) {
      throw UsageError(option + ": expected up to 16 GPU numbers separated by commas, like 0,1, got '" + text + "'");
    }
    out.push_back(std::stoi(part));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

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
                  "convolution algorithms: cuDNN heuristics (fast start) or find, the autotuner (times every candidate "
                  "engine and fusion depth in a CUDA graph at load; slower start, kept by the plan cache)");
  cli::add_int(cmd, "--workspace-mb", "MiB", o.workspace_mb, "largest cuDNN workspace one layer may use");
  cli::add_string(cmd, "--fp32-layers", "SPEC", c.fp32_layers,
                  "fp16 only: layers kept in float32 (their inputs converted at the boundary), for a network whose stem amplifies half rounding: N (the first N layers), ..NAME (up to and including NAME), PREFIX*, or NAME, comma-separated")
      ->default_str("none");
  cli::add_string(cmd, "--plan-cache", "DIR|off", c.plan_cache, "where the plan cache lives: a directory, or off (memory only); chosen engines and compiled cuDNN plans are reused from it by later loads on the same GPU and libraries")
      ->default_str("$KILN_PLAN_CACHE, else ~/.cache/kiln/plans");
  cli::add_int(cmd, "--batch", "N", c.batch, "batch to run (0 = the --input file's, else the one in model.yaml)");
  cli::add_string(cmd, "--input", "FILE", c.input_file,
                  "input tensors (.manifest + .bin, names as the model's inputs, shape at --batch)")
      ->default_str("random, uniform in [-1, 1]");
  cli::add_string(cmd, "--shape", "HxW", o.shape,
                  "input height x width for a model exported with --dynamic-hw (any size in its range; the "
                  "engine is loaded for the largest, as an application would)")
      ->default_str("the --input file's, else the export's example size");
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
  if (!o.shape.empty()) c.hw = parse_hw(o.shape, "--shape");
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
