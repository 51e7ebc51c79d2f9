// conv2d with groups = channels as kiln's kernel: Note [depthwise convolution] in layers/conv/depthwise_gpu.h.
#include "layers/conv/depthwise_gpu.h"

#include <optional>
#include <string>

#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/conv/depthwise_kernels.h"

namespace kiln::gpu {

bool is_depthwise(const ConvParams& p) {
  return !p.transposed && p.groups > 1 && p.groups == p.in_channels && p.groups == p.out_channels;
}

std::vector<WeightRequest> depthwise_weight_forms(const ConvLayer& layer, Precision p) {
  const bool half = p == Precision::Fp16;
  std::vector<WeightRequest> r{{&layer.weight(), half ? WeightForm::F16Taps : WeightForm::F32}};
  if (layer.bias()) r.push_back({layer.bias(), half ? WeightForm::F32Padded : WeightForm::F32});
  return r;
}

std::unique_ptr<GpuOp> make_depthwise_op(const OpBuildEnv& env) {
  const ConvLayer& layer = layer_as<ConvLayer>(env.layer);
  const ConvParams params = layer.params();
  const Precision p = env.precision();
  const std::vector<WeightRequest> forms = depthwise_weight_forms(layer, p);
  DepthwiseFilter filter;
  filter.taps = env.weights.get(forms[0]);
  const std::int64_t taps = params.kernel[0] * params.kernel[1];
  if (p == Precision::Fp16) {
    filter.tap_stride = stored_channels(layer.output_shape(), p);
  } else {
    filter.channel_stride = taps;
  }
  const float* bias = layer.bias() ? static_cast<const float*>(env.weights.get(forms[1])) : nullptr;
  std::optional<ActivationParams> act;
  if (env.epilogue) act = activation_params(*env.epilogue);
  std::string fused = "conv";
  if (bias) fused += "+bias";
  if (act) fused += std::string("+") + activation_name(act->kind);
  const Shape x_shape = layer.input_shapes()[0];
  const Shape y_shape = layer.output_shape();
  const int in = env.inputs.at(0);
  const int out = env.output;
  return op_preparing_by("kiln depthwise kernel (" + fused + ")", [=](const OpRunEnv& e, std::int64_t batch) {
    const TensorView x = e.view(in, x_shape, batch, p);
    const TensorView y = e.view(out, y_shape, batch, p);
    return prepared_call([=](const OpRunEnv& r) {
      launch_depthwise(x, y, filter, bias, act ? &*act : nullptr, params, r.stream);
    });
  });
}

}  // namespace kiln::gpu
