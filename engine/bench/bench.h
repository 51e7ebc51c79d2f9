// The measuring side of `kiln bench`: run a model for a warm-up time, then for at least N iterations and
// at least T seconds, and collect per-iteration samples (engine/bench/report.h holds the result).
//
//   run_cpu_bench: the CPU reference path, host wall time per run (cpu_bench.cpp, kiln_core only).
//   run_gpu_bench: the GPU engine, CUDA events per iteration (gpu_bench.cpp, needs kiln_gpu).
// Both throw UsageError for bad options, and the engine's errors for bad models.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/bench/report.h"
#include "engine/graph.h"
#include "engine/host_tensor.h"

namespace kiln::bench {

BenchResult run_cpu_bench(const BenchConfig& config);
// `workspace_mb`: the engine's per-layer workspace cap (as kiln run's --workspace-mb).
BenchResult run_gpu_bench(const BenchConfig& config, std::int64_t workspace_mb);

// The inputs a bench or profile runs on, at `c.batch`: the tensors of `c.input_file` (a .manifest,
// matched to the model's inputs by name, each of the input's shape, or for a dynamic input any size
// in its range), or, when there is none, uniform random values in [-1, 1] from a fixed seed (never
// zeros: they can run faster than real data) of the export's example shapes, a dynamic input's
// height × width set by `c.hw` when given. Throws UsageError naming the file, the tensor, the expected
// and the found shape, or --shape for a size the model does not take.
std::vector<HostTensor> bench_inputs(const Graph& graph, const BenchConfig& c);

// The shapes of `inputs`, batch first (what the GPU context's shape overloads take).
std::vector<Shape> shapes_of(const std::vector<HostTensor>& inputs);

// The graph a run of `inputs` computes: `graph` itself (not owned) when they have its input shapes,
// else `graph` built for theirs (a dynamic model at another size): for FLOPs, bytes and output sizes.
std::shared_ptr<const Graph> run_graph(const Graph& graph, const std::vector<HostTensor>& inputs);

// The total of the layers' flops_per_sample times `batch`.
double graph_flops(const Graph& graph, std::int64_t batch);

// Throws UsageError unless the counts and times of `config` are usable (batch >= 1, iterations >= 1,
// warm-up and duration >= 0, streams in 1..64).
void check_config(const BenchConfig& config);

using Clock = std::chrono::steady_clock;
inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Decides when a measurement stops and prints a progress line to stderr during long ones (over 2 s):
// rewritten in place once a second on a terminal, one line every 10 s otherwise.
class MeasureLoop {
 public:
  explicit MeasureLoop(const BenchConfig& config, const char* what = "measuring");
  // Starts the clock (call right before the first measured iteration).
  void start();
  // True while fewer than config.iterations were done or less than config.duration_s has passed.
  // Updates the progress line.
  bool more(std::int64_t done);
  // Elapsed seconds since start(); ends the progress line.
  double finish();

 private:
  std::int64_t iterations_;
  double duration_s_;
  const char* what_;
  Clock::time_point start_;
  double last_print_s_ = 0;
  bool printed_ = false;
  bool tty_ = false;
};

}  // namespace kiln::bench
