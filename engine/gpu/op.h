// The GPU layer lifecycle (internal to kiln_gpu; users see engine.h):
//
//   1. build  (GpuEngine::load, once):     make_gpu_op(OpBuildEnv) reads the Layer's parameters,
//      checks what the GPU path supports, chooses algorithms (cuDNN engine configs, at max batch)
//      and reports its workspace need. The GpuOp is immutable afterwards and shared by all contexts.
//   2. prepare (per ExecutionContext and batch, lazily, cached by the context): binds the op to the
//      context's handles, stream-independent descriptors, cuDNN execution plans and the context's
//      device pointers, which never move. No device allocation happens here.
//   3. run (per inference): enqueues the work on the context's stream. No allocation, no host sync.
//
// Error naming: the engine and the context wrap 1-3 in a LayerScope, so any check failure names the
// layer.
#pragma once

#include <cublasLt.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/gpu/engine_options.h"
#include "engine/gpu/weights.h"
#include "layers/params.h"

namespace kiln::gpu {

class DeviceWeights;

// Device buffers the find mode times candidate plans on (a scratch arena laid out like a context's).
struct FindScratch {
  std::vector<float*> tensors;  // one per graph tensor
  void* workspace = nullptr;
  std::uint64_t workspace_bytes = 0;
  cudaStream_t stream = nullptr;
};

struct OpBuildEnv {
  const Graph& graph;
  int layer = 0;
  const GpuEngineOptions& options;
  cudnnHandle_t cudnn = nullptr;          // the engine's build-time handles
  cublasLtHandle_t cublaslt = nullptr;
  const DeviceWeights& weights;
  // The activation layer that follows this one and was folded into it (conv + activation): this op
  // must apply it to its output. Absent for every other layer.
  std::optional<ActivationParams> fused_activation;
  const FindScratch* scratch = nullptr;  // set in AlgoMode::Find

  const Layer& layer_ref() const { return *graph.layers()[static_cast<std::size_t>(layer)]; }
  const std::vector<int>& inputs() const { return graph.layer_inputs(layer); }
  int output() const { return graph.output_tensor_of(layer); }
};

struct OpRunEnv {
  cudnnHandle_t cudnn = nullptr;
  cublasLtHandle_t cublaslt = nullptr;
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  std::uint64_t workspace_bytes = 0;
  const std::vector<float*>* tensors = nullptr;  // one device pointer per graph tensor (the arena)

  float* tensor(int index) const { return (*tensors)[static_cast<std::size_t>(index)]; }
};

class PreparedOp {
 public:
  virtual ~PreparedOp() = default;
  virtual void run(const OpRunEnv& env) const = 0;
};

class GpuOp {
 public:
  virtual ~GpuOp() = default;
  // Returns nullptr for ops with nothing to do (views, activations folded into their producer).
  virtual std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const = 0;
  // How the layer runs, for `kiln inspect --device gpu`: "cudnn graph eng0_k2=1 (conv+bias+relu)",
  // "cuda kernel", "cublasLt", "view", "fused into enc.0".
  virtual std::string describe() const = 0;
  // Workspace the op needs at max batch (the context's shared workspace is the max over ops).
  virtual std::uint64_t workspace_bytes() const { return 0; }
};

// A PreparedOp running a callable; for ops whose per-batch state is a few captured values.
template <class F>
class PreparedFn final : public PreparedOp {
 public:
  explicit PreparedFn(F f) : f_(std::move(f)) {}
  void run(const OpRunEnv& env) const override { f_(env); }

 private:
  F f_;
};

template <class F>
std::unique_ptr<PreparedOp> prepared(F f) {
  return std::make_unique<PreparedFn<F>>(std::move(f));
}

// A GpuOp with a fixed description whose prepare() is a callable (batch -> PreparedOp).
template <class F>
class SimpleOp final : public GpuOp {
 public:
  SimpleOp(std::string description, F prepare_fn)
      : description_(std::move(description)), prepare_(std::move(prepare_fn)) {}
  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    return prepare_(env, batch);
  }
  std::string describe() const override { return description_; }

 private:
  std::string description_;
  F prepare_;
};

template <class F>
std::unique_ptr<GpuOp> simple_op(std::string description, F prepare_fn) {
  return std::make_unique<SimpleOp<F>>(std::move(description), std::move(prepare_fn));
}

// The registry of GPU ops (layers/gpu/registry.cpp): op name -> factory. Throws ModelError naming the
// layer for an op with no GPU implementation, listing those that have one.
std::unique_ptr<GpuOp> make_gpu_op(const OpBuildEnv& env);
std::vector<std::string> gpu_ops();

// Precision::Fp16: the weight forms `layer`'s op will ask DeviceWeights::form for
// (layers/gpu/fp16_weights.cpp), gathered by the engine before its one upload. ModelError for a layer
// with weights but no fp16 layout.
std::vector<WeightRequest> fp16_weight_requests(const Layer& layer);

}  // namespace kiln::gpu
