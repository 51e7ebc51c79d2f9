// The result of one `kiln bench` run, its summary (throughput, percentiles, warnings) and its text and
// JSON forms. Plain C++ with no CUDA, so everything here is tested without a GPU; the measuring loops
// live in gpu_bench.cpp and cpu_bench.cpp.
//
// Units: milliseconds for times (host wall clock or CUDA events as each field says), bytes for memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/bench/stats.h"
#include "engine/json_writer.h"

namespace kiln::bench {

struct BenchConfig {
  std::string model;       // the path given on the command line
  std::string model_name;  // model.yaml's name (may be empty)
  std::string device;      // "gpu" or "cpu"
  std::string precision;   // "fp32" or "tf32"
  std::string algo;        // "heuristic" or "find" (gpu)
  std::int64_t batch = 1;
  std::int64_t streams = 1;
  bool cuda_graph = false;
  bool transfers = true;  // gpu: each iteration copies inputs host->device and outputs back
  double warmup_ms = 200;
  std::int64_t iterations = 10;  // at least this many measured iterations...
  double duration_s = 3;         // ...and at least this much measured wall time
  std::string input_file;        // inputs read from this tensor file; empty = random uniform [-1, 1]
  // --shape HxW: the height × width of a dynamic model's inputs (Note [input sizes] in engine/graph.cpp);
  // empty = the --input file's, else the export's example size. The engine is loaded for the range's
  // largest size as an application would, so the run exercises a context's per-size build.
  std::vector<std::int64_t> hw;
  // gpu: the plan cache (Note [plan cache], formats/plan_cache.h): "" = the default directory, "off" =
  // memory only, else the directory.
  std::string plan_cache;
  // gpu, fp16: --fp32-layers, the layers kept in float32 (GpuEngineOptions::fp32_layers); "" for none.
  std::string fp32_layers;
  // gpu: --devices, the GPUs to run on at once: one engine per device (GpuEngine::load_replicas), --streams
  // contexts on each, iterations handed to every context in turn from one host thread. Empty: device 0.
  std::vector<int> devices;
};

// gpu with several --devices: what one device's contexts did.
struct DeviceShare {
  int device = 0;
  std::string description;        // its engine's device_description()
  std::int64_t iterations = 0;    // measured iterations completed there
};

// gpu: what the plan cache did over the load, the contexts' plans and the first run.
struct PlanCacheReport {
  bool known = false;       // false on the cpu path
  std::string directory;    // "" = memory only
  std::int64_t hits = 0, misses = 0, rejected = 0, written = 0, write_failures = 0;
  std::string problem;      // the first rejection or write failure
};

// Start-up cost in host wall milliseconds; a phase that does not apply is 0.
struct LoadSplit {
  double cuda_init_ms = 0;        // CUDA context creation, before the engine (every GPU program pays it)
  double parse_ms = 0;            // model.yaml + manifest read and checked, graph built
  double upload_ms = 0;           // weight blob read, CRC-checked and copied to the device (cpu: read only)
  double select_ms = 0;           // fusion, memory plan, algorithm selection (cuDNN engines, cuBLASLt)
  double other_ms = 0;            // the rest of the engine's load (device query)
  double context_ms = 0;          // execution contexts: arena + workspace, plans for the batch, graph capture
  double first_inference_ms = 0;  // the first run, to its result on the host
  double graph_capture_ms = 0;    // --cuda-graph: capturing the run (after the first result; not in the total)
  double shape_build_ms = 0;      // gpu, a dynamic model at a size not its largest: building that size (in context_ms)
  // From the start of the model load (after CUDA init) to the first result.
  double to_first_result_ms() const {
    return parse_ms + upload_ms + select_ms + other_ms + context_ms + first_inference_ms;
  }
};

struct MemorySplit {
  bool known = false;           // false on the cpu path
  std::uint64_t weights = 0;    // one copy, shared by every context
  std::uint64_t arena = 0;      // activation arena, per context
  std::uint64_t workspace = 0;  // shared cuDNN/cuBLASLt workspace, per context
  std::int64_t contexts = 1;
  std::uint64_t io_buffers = 0;  // the bench's own device input/output buffers, all contexts
  std::uint64_t peak = 0;        // cudaMemGetInfo: most device memory in use above the level after CUDA init,
                                 // at least what kiln itself allocated (weights, I/O, arenas, workspaces)
                                 // (kiln's buffers plus library handles and loaded kernels)
  // What one context allocates above the weights: the figure compared with PyTorch's peak.
  std::uint64_t extra_over_weights() const { return arena + workspace; }
};

// Per-iteration samples in milliseconds; an empty vector means the metric does not apply.
struct Samples {
  std::vector<double> latency;  // gpu: H2D start to D2H end on the GPU timeline (CUDA events); cpu: host wall
  std::vector<double> enqueue;  // gpu: host time to submit one iteration
  std::vector<double> h2d;      // gpu with transfers
  std::vector<double> compute;  // gpu: inputs into the arena, every layer, outputs out (CUDA events)
  std::vector<double> d2h;      // gpu with transfers
};

struct BenchResult {
  BenchConfig config;
  std::string device_description;
  LoadSplit load;
  MemorySplit memory;
  PlanCacheReport plan_cache;
  Samples samples;
  std::int64_t warmup_iterations = 0;
  double wall_s = 0;           // measured iterations' host wall time, first submission to last completion
  double flops_per_batch = 0;  // sum over layers of flops_per_sample × batch
  std::string input_shapes;    // "[1,3,1080,1920]" (several inputs: comma-separated)
  std::vector<DeviceShare> devices;  // gpu with --devices: one per entry, in its order; else empty
};

// Warn when the timed metric's coefficient of variation is above this fraction.
constexpr double kCvWarnFraction = 0.05;
// Warn that throughput is bound by enqueueing when the host spent at least this fraction of the
// measured wall time submitting work (the GPU then waits on the host).
constexpr double kEnqueueBoundFraction = 0.9;
// Below this many measured iterations, p99 is little more than the maximum.
constexpr std::size_t kTailIterations = 100;

struct BenchSummary {
  Summary latency, enqueue, h2d, compute, d2h;
  double throughput_qps = 0;  // measured iterations (all streams) per second of wall time
  double images_per_s = 0;    // throughput_qps × batch
  double tflops = 0;          // flops_per_batch / median compute (cpu: median latency), in TFLOP/s
  double enqueue_share = 0;   // sum of enqueue times / wall time
  std::vector<double> device_qps;  // per DeviceShare: its iterations per second of the same wall time
  std::vector<std::string> warnings;
};

BenchSummary summarize_bench(const BenchResult& r);

// The trtexec-style report printed by `kiln bench`.
std::string format_report(const BenchResult& r, const BenchSummary& s);

// The `kiln bench --json` document (benchmarks/run_benchmarks.py reads it): one object with config,
// load, memory, throughput, one object per metric (null when it does not apply) and warnings.
void write_json(JsonWriter& j, const BenchResult& r, const BenchSummary& s);

// "12.0 MiB", "512 B".
std::string human_bytes(std::uint64_t bytes);

// printf into a std::string (up to 1023 characters; longer results are cut).
__attribute__((format(printf, 1, 2))) std::string strprintf(const char* format, ...);

}  // namespace kiln::bench
