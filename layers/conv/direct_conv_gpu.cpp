// Small-channel conv2d as kiln's kernel: Note [direct convolution] in layers/conv/direct_conv_gpu.h.
#include "layers/conv/direct_conv_gpu.h"

#include <optional>
#include <string>

#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/activation/activation.h"
#include "layers/conv/direct_conv_kernels.h"

namespace kiln::gpu {

namespace {

// The most output-channel blocks one launch has (the grid's y dimension).
constexpr std::int64_t kMaxChannelBlocks = 65535;

class DirectConvOp final : public GpuOp {
 public:
  explicit DirectConvOp(const OpBuildEnv& env)
      : layer_(layer_as<ConvLayer>(env.layer)),
        params_(layer_.params()),
        precision_(env.precision()),
        in_(env.inputs.at(0)),
        out_(env.output) {
    const std::vector<WeightRequest> forms = direct_conv_weight_forms(layer_, precision_);
    filter_ = static_cast<const float*>(env.weights.get(forms[0]));
    if (layer_.bias()) bias_ = static_cast<const float*>(env.weights.get(forms[1]));
    if (env.epilogue) act_ = activation_params(*env.epilogue);
    std::string fused = "conv";
    if (bias_) fused += "+bias";
    if (act_) fused += std::string("+") + activation_name(act_->kind);
    description_ = "kiln direct conv kernel (" + fused + ")";
  }

  std::unique_ptr<PreparedOp> prepare(const OpRunEnv& env, std::int64_t batch) const override {
    const TensorView x = env.view(in_, layer_.input_shapes()[0], batch, precision_);
    const TensorView y = env.view(out_, layer_.output_shape(), batch, precision_);
    const float* w = filter_;
    const float* b = bias_;
    const std::optional<ActivationParams> act = act_;
    const ConvParams p = params_;
    return prepared_call([=](const OpRunEnv& r) { launch_direct_conv(x, y, w, b, act ? &*act : nullptr, p, r.stream); });
  }

  std::string describe() const override { return description_; }

 private:
  const ConvLayer& layer_;
  ConvParams params_;
  Precision precision_;
  int in_, out_;
  const float* filter_ = nullptr;
  const float* bias_ = nullptr;
  std::optional<ActivationParams> act_;
  std::string description_;
};

}  // namespace

bool direct_conv_eligible(const ConvParams& p) {
  return !p.transposed && p.groups == 1 && direct_conv_shared_bytes(p) <= kDirectConvMaxSharedBytes &&
         (p.out_channels + direct_conv_channel_block(p) - 1) / direct_conv_channel_block(p) <= kMaxChannelBlocks;
}

bool direct_conv_candidate(const ConvParams& p) {
  return direct_conv_eligible(p) && (p.out_channels <= 8 || p.in_channels <= 4);
}

bool direct_conv_preferred(const ConvParams& p, Precision precision) {
  if (!direct_conv_candidate(p)) return false;
  if (p.out_channels <= 8) return true;
  // A wide-kernel RGB stem in fp16: 49 taps per output amortise the per-tap address work that makes a
  // 3x3 stem slower than cuDNN (ResNet-50's conv1 0.495 -> 0.453 ms; benchmarks/NOTES.md, 2026-12-03).
  return precision == Precision::Fp16 && p.in_channels <= 4 && p.kernel[0] * p.kernel[1] >= 25;
}

std::vector<WeightRequest> direct_conv_weight_forms(const ConvLayer& layer, Precision p) {
  std::vector<WeightRequest> r{{&layer.weight(), WeightForm::F32}};
  if (layer.bias()) r.push_back({layer.bias(), p == Precision::Fp16 ? WeightForm::F32Padded : WeightForm::F32});
  return r;
}

std::unique_ptr<GpuOp> make_direct_conv_op(const OpBuildEnv& env) { return std::make_unique<DirectConvOp>(env); }

bool is_direct_conv_op(const GpuOp* op) { return dynamic_cast<const DirectConvOp*>(op) != nullptr; }

}  // namespace kiln::gpu
