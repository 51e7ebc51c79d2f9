// Which forms of its weights each layer binds in Precision::Fp16 (engine/gpu/weights.h). Must agree
// with what the ops ask DeviceWeights::form for (conv.cpp, pointwise.cpp, linear.cpp).
#include <vector>

#include "layers/conv/conv2d.h"
#include "layers/gpu/ops.h"
#include "layers/linear/linear.h"
#include "layers/norm/batch_norm.h"

namespace kiln::gpu {

std::vector<WeightRequest> fp16_weight_requests(const Layer& layer) {
  if (const auto* conv = dynamic_cast<const ConvLayer*>(&layer)) {
    std::vector<WeightRequest> r{{&conv->weight(), WeightForm::F16Filter, conv->params().groups}};
    if (conv->bias()) {
      r.push_back({conv->bias(), WeightForm::F16Padded, 1});
      r.push_back({conv->bias(), WeightForm::F32Padded, 1});
    }
    return r;
  }
  if (const auto* bn = dynamic_cast<const BatchNormLayer*>(&layer)) {
    return {{&bn->scale(), WeightForm::F32Padded, 1}, {&bn->shift(), WeightForm::F32Padded, 1}};
  }
  if (const auto* linear = dynamic_cast<const LinearLayer*>(&layer)) {
    std::vector<WeightRequest> r{{&linear->weight(), WeightForm::F16, 1}};
    if (linear->bias()) r.push_back({linear->bias(), WeightForm::F16, 1});
    return r;
  }
  if (!layer.weights().empty()) {
    throw ModelError(layer.origin().describe() + ": op '" + layer.op() + "' has weights but no fp16 weight layout " +
                     "(run it with --precision fp32 or tf32)");
  }
  return {};
}

}  // namespace kiln::gpu
