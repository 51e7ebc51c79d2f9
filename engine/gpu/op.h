// The GPU op contract (internal to kiln's GPU backend; users see engine.h). Every op kind provides a
// GpuOpKind (layers/<kind>/<kind>_gpu.cpp), found through the registry (layers/registry_gpu.h):
//
//   0. declare (GpuEngine::load, first): what the op needs before anything is built: the forms of its
//      weights on the device, how its output is stored (its own block, a view of its input, or
//      allowed over its input) and which epilogues it can fold in. The engine uploads the weights,
//      plans memory and decides fusion from these declarations alone.
//   1. build  (GpuEngine::load, once): reads the Layer's parameters, checks what the GPU path
//      supports, chooses algorithms (cuDNN engine configs, at max batch) and reports its workspace
//      need. The GpuOp is immutable afterwards and shared by all contexts (the ops of a ShapeVariant,
//      another input size of a dynamic model, belong to the context that built them).
//   2. prepare (per ExecutionContext and batch, lazily, cached by the context): binds the op to the
//      context's handles, stream-independent descriptors, cuDNN execution plans and the context's
//      device pointers, which never move. No device allocation happens here.
//   3. run (per inference): enqueues the work on the context's stream. No allocation, no host sync.
//
// Error naming: the engine and the context wrap 0-3 in a LayerScope, so any check failure names the
// layer. This header belongs to the runtime: it knows layers only through the Layer contract, never
// an op's own classes.
#pragma once

#include <cublasLt.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "engine/fusion.h"
#include "engine/gpu/engine_options.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/weights.h"
#include "layers/layer.h"

namespace kiln::gpu {

class DeviceWeights;
class GpuOp;
struct PlanCacheRef;

// Where an op's output lives in the activation arena.
enum class OutputStorage {
  Own,              // a block of its own
  ViewOfInput,      // input 0's memory reinterpreted: nothing runs (flatten)
  MayOverwriteInput,  // its own block, or input 0's when input 0 dies at this layer (elementwise ops)
};

struct OpDeclaration {
  std::vector<WeightRequest> weights;  // every form the build step will ask DeviceWeights::get for
  OutputStorage output = OutputStorage::Own;
  // Epilogue kinds (engine/fusion.h).
  unsigned accepts_epilogues = kNoEpilogue;  // producer: the kinds it can apply to its own output
  unsigned epilogue_kind = kNoEpilogue;      // this layer can be folded into a producer as this kind
};

// Device buffers the find mode times candidate plans on (a scratch arena laid out like a context's).
struct FindScratch {
  std::vector<void*> tensors;  // one per graph tensor
  void* workspace = nullptr;
  std::uint64_t workspace_bytes = 0;
  cudaStream_t stream = nullptr;
};

struct OpBuildEnv {
  const Layer& layer;
  std::vector<int> inputs;  // arena tensor indices of the layer's inputs, in its input order
  int output = -1;          // arena tensor index of its output
  std::int64_t max_batch = 1;
  const GpuEngineOptions& options;
  cudnnHandle_t cudnn = nullptr;  // the engine's build-time handles
  cublasLtHandle_t cublaslt = nullptr;
  const DeviceWeights& weights;
  // The activation folded into this one (its declared epilogue_kind is one this op accepts): this op must
  // apply it to its output, after the residual add when there is one. Null for every other layer.
  const Layer* epilogue = nullptr;
  const FindScratch* scratch = nullptr;  // set in AlgoMode::Find
  // When building a ShapeVariant (another input size of a dynamic model): this layer's op at the
  // engine's own shapes. An op whose choice is costly (a cuDNN engine config whose plan compiles) may
  // start from its choice instead of searching again, as a smaller batch does. Null at load.
  const GpuOp* like = nullptr;
  // The engine's plan cache (engine/gpu/plan_cache_gpu.h): an op whose choice is costly looks it up
  // before searching and stores what it chose. Null: no cache.
  const PlanCacheRef* plans = nullptr;
  // A residual add folded into this op (kResidualAddEpilogue, engine/fusion.h): the op's output is its
  // own result plus arena tensor `residual` (same shape, layout and type), then `epilogue`. The add layer
  // is `residual_add`; -1 / null when none.
  int residual = -1;
  const Layer* residual_add = nullptr;

  Precision precision() const { return options.precision; }
};

struct OpRunEnv {
  cudnnHandle_t cudnn = nullptr;
  cublasLtHandle_t cublaslt = nullptr;
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  std::uint64_t workspace_bytes = 0;
  const std::vector<void*>* tensors = nullptr;  // one device pointer per graph tensor (the arena)
  const PlanCacheRef* plans = nullptr;          // the engine's plan cache (serialized plans), or null

  void* tensor(int index) const { return (*tensors)[static_cast<std::size_t>(index)]; }
  // The kernels' view of tensor `index`, whose shape at the built batch is `built_shape`, at `batch`.
  TensorView view(int index, const Shape& built_shape, std::int64_t batch, Precision precision) const {
    return activation_view(tensor(index), Layer::at_batch(built_shape, batch), precision);
  }
};

class PreparedOp {
 public:
  virtual ~PreparedOp() = default;
  virtual void run(const OpRunEnv& env) const = 0;
};

class GpuOp {
 public:
  virtual ~GpuOp() = default;
  // Returns nullptr for ops with nothing to do (views, layers folded into their producer).
  virtual std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const = 0;
  // How the layer runs, for `kiln inspect --device gpu`: "cudnn graph eng0_k2=1 (conv+bias+relu)",
  // "cuda kernel", "cublasLt", "view", "fused into enc.0".
  virtual std::string describe() const = 0;
  // Workspace the op needs at max batch (the context's shared workspace is the max over ops).
  virtual std::uint64_t workspace_bytes() const { return 0; }
};

// What the registry holds for an op on the GPU. Both functions may throw ModelError naming the layer
// for a case the GPU path does not support.
struct GpuOpKind {
  OpDeclaration (*declare)(const Layer& layer, Precision precision);
  std::unique_ptr<GpuOp> (*build)(const OpBuildEnv& env);
};

// A PreparedOp that runs a callable; for ops whose per-batch state is a few captured values.
template <class F>
class PreparedCall final : public PreparedOp {
 public:
  explicit PreparedCall(F f) : f_(std::move(f)) {}
  void run(const OpRunEnv& env) const override { f_(env); }

 private:
  F f_;
};

template <class F>
std::unique_ptr<PreparedOp> prepared_call(F f) {
  return std::make_unique<PreparedCall<F>>(std::move(f));
}

// A GpuOp with a fixed description whose prepare() is a callable (env, batch) -> PreparedOp.
template <class F>
class PrepareByCall final : public GpuOp {
 public:
  PrepareByCall(std::string description, F prepare_fn)
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
std::unique_ptr<GpuOp> op_preparing_by(std::string description, F prepare_fn) {
  return std::make_unique<PrepareByCall<F>>(std::move(description), std::move(prepare_fn));
}

// The layer as its concrete class, for an op's own GPU code (the registry pairs an op name with the
// CPU factory that built the layer, so this holds unless kiln itself is wrong; then it is a ModelError
// naming the layer, not a crash).
template <class L>
const L& layer_as(const Layer& layer) {
  const L* l = dynamic_cast<const L*>(&layer);
  if (!l) throw ModelError(layer.origin().describe() + ": the GPU backend does not recognise this layer's class");
  return *l;
}

// Elements per channel: the product of the dimensions after the second (1 for [N, C]).
inline std::int64_t inner_size(const Shape& s) {
  std::int64_t n = 1;
  for (std::size_t i = 2; i < s.size(); ++i) n *= s[i];
  return n;
}

}  // namespace kiln::gpu
