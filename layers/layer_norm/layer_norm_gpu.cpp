// layer_norm on the GPU: kiln's kernel (layer_norm.cu) in both precisions. It reads only the first C
// channels of a position and writes zeros to the pads itself, so weight and bias are plain float32
// [C] vectors (WeightForm::F32) in fp16 engines too.
#include <vector>

#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/layer_norm/layer_norm.h"
#include "layers/layer_norm/layer_norm_kernels.h"

namespace kiln::gpu {

namespace {

std::vector<WeightRequest> weight_requests(const LayerNormLayer& layer) {
  std::vector<WeightRequest> r;
  if (layer.weight()) r.push_back({layer.weight(), WeightForm::F32});
  if (layer.bias()) r.push_back({layer.bias(), WeightForm::F32});
  return r;
}

OpDeclaration declare(const Layer& layer, Precision) {
  OpDeclaration d;
  d.weights = weight_requests(layer_as<LayerNormLayer>(layer));
  d.output = OutputStorage::MayOverwriteInput;
  return d;
}

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const LayerNormLayer& layer = layer_as<LayerNormLayer>(env.layer);
  const auto vector = [&](const TensorEntry* t) {
    return t ? static_cast<const float*>(env.weights.get({t, WeightForm::F32})) : nullptr;
  };
  const float* weight = vector(layer.weight());
  const float* bias = vector(layer.bias());
  const float eps = static_cast<float>(layer.params().eps);
  const Shape shape = layer.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, shape, batch, p);
    const TensorView y = e.view(out, shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) { launch_layer_norm(x, y, weight, bias, eps, r.stream); });
  });
}

}  // namespace

const GpuOpKind layer_norm_gpu{&declare, &build};

}  // namespace kiln::gpu
