#include <cuda_runtime.h>

#include "engine/runner.h"
#include "base/errors.h"
#include "engine/gpu/context.h"

namespace kiln {

namespace {

class GpuRunner : public ModelRunner {
 public:
  explicit GpuRunner(std::shared_ptr<const gpu::GpuEngine> engine) : engine_(std::move(engine)), context_(engine_) {}
  const Graph& graph() const override { return engine_->graph(); }
  std::string device_description() const override { return engine_->device_description(); }
  RunResult run(const std::vector<HostTensor>& inputs, std::int64_t batch, const RunOptions& options) override {
    return context_.run(inputs, batch, options);
  }

 private:
  std::shared_ptr<const gpu::GpuEngine> engine_;
  gpu::ExecutionContext context_;
};

gpu::GpuEngineOptions gpu_options(const RunnerOptions& options) {
  gpu::GpuEngineOptions o = gpu::engine_options_from(options.precision, options.algo, options.workspace_mb, options.plan_cache,
                                                      options.fp32_layers);
  o.keep_all_layer_outputs = options.keep_layer_outputs;
  o.device = options.gpu;
  return o;
}

}  // namespace

bool gpu_available(std::string* why_not) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    if (why_not) {
      *why_not = status != cudaSuccess ? std::string("no CUDA device (") + cudaGetErrorString(status) + ")"
                                       : std::string("no CUDA device");
    }
    return false;
  }
  return true;
}

std::shared_ptr<const gpu::GpuEngine> load_gpu_engine(const RunnerOptions& options) {
  return gpu::GpuEngine::load(options.model, gpu_options(options), GraphBuildOptions{options.max_batch, 256, {}});
}

std::vector<std::shared_ptr<const gpu::GpuEngine>> load_gpu_replicas(const RunnerOptions& options,
                                                                     const std::vector<int>& gpus) {
  return gpu::GpuEngine::load_replicas(options.model, gpus, gpu_options(options),
                                       GraphBuildOptions{options.max_batch, 256, {}});
}

std::unique_ptr<ModelRunner> make_gpu_runner(const RunnerOptions& options) {
  return std::make_unique<GpuRunner>(load_gpu_engine(options));
}

}  // namespace kiln
