// The result of `kiln profile` (per-layer GPU times from CUDA events) and its text and JSON forms.
// Plain C++ with no CUDA: the measuring is in engine/cli/cmd_profile.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/json_writer.h"

namespace kiln::bench {

struct LayerProfile {
  int index = 0;  // position in execution order
  std::string name, op;
  std::string implementation;  // the engine's LayerReport: cuDNN engine, kernel, "fused into ..."
  std::uint64_t workspace_bytes = 0;
  bool ran = false;  // false: no work of its own (a view, or folded into another layer)
  double ms = 0;     // median over the profiled runs
  double flops = 0;  // at the profiled batch
  double bytes = 0;  // least device traffic at the batch: inputs read + output written + weights
};

// What a layer could at best reach on the device: its arithmetic peak for the precision (TFLOP/s) and its
// memory bandwidth (GB/s). 0 = unknown (no floor is shown).
struct DevicePeaks {
  double tflops = 0, gbps = 0;
  std::string source;  // where the figures come from, printed under the table
};

// The measured peaks of a GPU kiln knows by name (a substring of `device`: "H200", "H100") for
// `precision` ("fp32": CUDA cores; "tf32", "fp16": dense tensor cores), from ../shared figures measured
// on that GPU: H200 790 TFLOP/s fp16 (an 8192^3 matmul), 495 tf32, 67 fp32, 4300 GB/s device to device;
// H100 the same arithmetic at 3000 GB/s. Unknown devices get zeros.
DevicePeaks known_peaks(const std::string& device, const std::string& precision);

// A layer's floor: the longer of its FLOPs at the arithmetic peak and its bytes at the bandwidth (ms),
// 0 when the peaks are unknown or the layer did no work.
double floor_ms(const LayerProfile& l, const DevicePeaks& peaks);

struct ProfileResult {
  std::string model, model_name, device_description, precision, algo;
  DevicePeaks peaks;
  std::int64_t batch = 1;
  std::int64_t runs = 0;        // profiled runs (each layer's time is their median)
  std::int64_t timed_runs = 0;  // whole runs without per-layer events, timed separately before
  double timed_run_ms = 0;      // their median: the network's time undisturbed by the profiling events
  double input_copy_ms = 0;     // medians over the profiled runs
  double output_copy_ms = 0;
  double profiled_total_ms = 0;  // median first-to-last event time of a profiled run
  std::vector<LayerProfile> layers;

  double layer_sum_ms() const;
};

enum class ProfileSort { Time, Order };

// The least bytes layer `layer` must move at `batch`: each input tensor read once, the output written
// once and every bound weight read once, each element `element_bytes` wide (4 for float32 engines, 2
// for fp16, which holds activations and weights in half).
double layer_bytes(const Graph& graph, int layer, std::int64_t batch, double element_bytes = 4.0);

// The table printed by `kiln profile`: one line per layer (slowest first with ProfileSort::Time; the
// first `top` of them, 0 = all), with its time, share of the layer sum, achieved TFLOP/s and GB/s,
// its floor (floor_ms) and time over floor when the peaks are known, workspace and implementation;
// layers without work of their own are listed last.
std::string format_profile(const ProfileResult& r, ProfileSort sort, std::size_t top);

// The `kiln profile --json` document: totals, then every layer in execution order.
void write_profile_json(JsonWriter& j, const ProfileResult& r);

}  // namespace kiln::bench
