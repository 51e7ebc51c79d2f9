// Host-side tensors and run results shared by every backend (CPU reference, GPU) and the CLI.
#pragma once

#include <string>
#include <vector>

#include "base/api.h"
#include "formats/manifest.h"

namespace kiln {

// A named float32 tensor in host memory, C-contiguous.
struct HostTensor {
  std::string name;
  Shape shape;
  std::vector<float> data;
};

struct RunOptions {
  // Keep every layer's output (returned in layer order in RunResult::layers).
  bool keep_layer_outputs = false;
};

struct RunResult {
  std::vector<HostTensor> outputs;  // in the model's output order
  std::vector<HostTensor> layers;   // with keep_layer_outputs, one per layer in execution order
};

// Reads every tensor of a manifest + blob pair as float32 HostTensors, in file order.
KILN_API std::vector<HostTensor> read_host_tensors(const std::string& manifest_path);

// Writes HostTensors as a manifest + blob pair: `path` names the manifest ("out/result.manifest");
// the blob goes beside it with the extension .bin.
KILN_API void write_host_tensors(const std::string& path, const std::vector<HostTensor>& tensors);

}  // namespace kiln
