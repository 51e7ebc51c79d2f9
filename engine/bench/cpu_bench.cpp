// `kiln bench --device cpu`: the CPU reference path timed with the host clock, so the bench's
// statistics and reports can run (and be tested) on a machine without a GPU.
#include "engine/bench/bench.h"
#include "engine/cpu_executor.h"
#include "base/errors.h"
#include "engine/model_dir.h"
#include "formats/model_spec.h"

namespace kiln::bench {

BenchResult run_cpu_bench(const BenchConfig& config) {
  check_config(config);
  if (config.precision != "fp32") {
    throw UsageError("--precision " + config.precision + ": the CPU reference path computes in fp32 only");
  }
  if (config.streams != 1 || config.cuda_graph || !config.transfers) {
    throw UsageError("--streams, --cuda-graph and --no-transfers apply to --device gpu only");
  }
  BenchResult r;
  r.config = config;
  r.device_description = "cpu (reference path, fp32)";

  auto t = Clock::now();
  const ModelSpec spec = read_model(resolve_model_yaml(config.model));
  r.load.parse_ms = ms_since(t);
  t = Clock::now();
  const TensorFile weights = read_tensor_file(spec.manifest_path);
  r.load.upload_ms = ms_since(t);
  t = Clock::now();
  GraphBuildOptions options;
  options.max_batch = config.batch;
  const Graph graph = Graph::build(spec, weights.manifest, options);
  r.load.parse_ms += ms_since(t);
  t = Clock::now();
  const CpuExecutor executor(graph, weights);
  r.load.context_ms = ms_since(t);
  r.config.model_name = spec.name;
  const std::vector<HostTensor> inputs = bench_inputs(graph, config);
  r.flops_per_batch = graph_flops(*run_graph(graph, inputs), config.batch);
  for (const HostTensor& in : inputs) r.input_shapes += (r.input_shapes.empty() ? "" : ",") + shape_to_string(in.shape);
  t = Clock::now();
  executor.run(inputs, config.batch);
  r.load.first_inference_ms = ms_since(t);

  t = Clock::now();
  while (ms_since(t) < config.warmup_ms) {
    executor.run(inputs, config.batch);
    ++r.warmup_iterations;
  }
  MeasureLoop loop(config);
  loop.start();
  while (loop.more(static_cast<std::int64_t>(r.samples.latency.size()))) {
    t = Clock::now();
    executor.run(inputs, config.batch);
    r.samples.latency.push_back(ms_since(t));
  }
  r.wall_s = loop.finish();
  return r;
}

}  // namespace kiln::bench
