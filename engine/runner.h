// The backend interface every tool shares (the kiln CLI, examples, benchmarks): load a model for a
// device (the CPU reference path or the GPU engine) and run host tensors through it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/api.h"
#include "engine/graph.h"
#include "engine/host_tensor.h"

namespace kiln {

namespace gpu {
class GpuEngine;
}

struct RunnerOptions {
  std::string model;            // folder or model.yaml
  std::string device = "auto";  // cpu | gpu | auto (gpu when one is present)
  std::int64_t max_batch = 0;   // 0 = the batch written in model.yaml
  std::string precision = "fp32";
  std::string algo = "heuristic";
  std::int64_t workspace_mb = 256;
  std::string plan_cache;  // gpu: "" = the default directory, "off" = memory only, else the directory
  int gpu = 0;             // gpu: the CUDA device the engine goes on
  std::string fp32_layers;  // gpu, fp16: the layers kept in float32 (GpuEngineOptions::fp32_layers)
  // Keep every layer's output (for compare --layers); on the GPU this turns off fusion and reuse.
  bool keep_layer_outputs = false;
};

class KILN_API ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  virtual const Graph& graph() const = 0;
  // "cpu (reference path)" or "gpu 0: NVIDIA H100 80GB HBM3, cuDNN 9.14.0, fp32".
  virtual std::string device_description() const = 0;
  virtual RunResult run(const std::vector<HostTensor>& inputs, std::int64_t batch, const RunOptions& options) = 0;
};

// Loads the model for the requested device. With device "auto", picks the GPU when one is usable and
// prints nothing; callers show device_description(). Throws UsageError for "gpu" without a usable GPU.
KILN_API std::unique_ptr<ModelRunner> make_runner(const RunnerOptions& options);

// The batch of the tensors read from `source`: the first dimension of the one named like the first
// input of `model` (folder or model.yaml), whatever the file's order. Throws UsageError when there is
// no such tensor, it is a scalar or its rank is not the model input's ([3,32,32] for [N,3,32,32]).
KILN_API std::int64_t input_batch(const std::string& model, const std::vector<HostTensor>& tensors, const std::string& source);

// Puts `tensors` in the graph's input order, matching by name. Throws UsageError naming a missing
// input and listing what `source` holds, or naming a tensor whose shape is not the model input's
// (the batch aside; a rank that differs is named as such) or whose batch differs from the first input's.
// A tensor that is not a model input (or a second one of an input's name) is a UsageError listing
// them, or with `allow_extra` a warning on stderr.
KILN_API std::vector<HostTensor> match_inputs(const Graph& graph, std::vector<HostTensor> tensors, const std::string& source,
                                     bool allow_extra = false);

// True when this build has a GPU backend and a CUDA device is visible; `why_not` says why not.
KILN_API bool gpu_available(std::string* why_not);

// The GPU backend's runner (runner_gpu.cpp). Throws as GpuEngine::load does.
KILN_API std::unique_ptr<ModelRunner> make_gpu_runner(const RunnerOptions& options);
// Loads the model on the GPU with the runner options' precision, algorithm mode and workspace cap.
KILN_API std::shared_ptr<const gpu::GpuEngine> load_gpu_engine(const RunnerOptions& options);
// The same on every device of `gpus` at once (options.gpu ignored): gpu::GpuEngine::load_replicas.
KILN_API std::vector<std::shared_ptr<const gpu::GpuEngine>> load_gpu_replicas(const RunnerOptions& options,
                                                                              const std::vector<int>& gpus);

}  // namespace kiln
