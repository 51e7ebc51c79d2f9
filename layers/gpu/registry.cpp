// The one map from op name to GPU op factory.
#include <map>

#include "layers/gpu/ops.h"

namespace kiln::gpu {

namespace {

using Factory = std::unique_ptr<GpuOp> (*)(const OpBuildEnv&);

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> m = {
      {"conv2d", &make_conv_op},
      {"conv_transpose2d", &make_conv_op},
      {"relu", &make_activation_op},
      {"leaky_relu", &make_activation_op},
      {"sigmoid", &make_activation_op},
      {"tanh", &make_activation_op},
      {"elu", &make_activation_op},
      {"batch_norm", &make_batch_norm_op},
      {"max_pool2d", &make_pool_op},
      {"avg_pool2d", &make_pool_op},
      {"global_avg_pool2d", &make_pool_op},
      {"linear", &make_linear_op},
      {"lrn", &make_lrn_op},
      {"softmax", &make_softmax_op},
      {"add", &make_add_op},
      {"concat", &make_concat_op},
      {"flatten", &make_flatten_op},
      {"upsample_nearest", &make_upsample_op},
  };
  return m;
}

}  // namespace

std::vector<std::string> gpu_ops() {
  std::vector<std::string> names;
  for (const auto& kv : factories()) names.push_back(kv.first);
  return names;
}

std::unique_ptr<GpuOp> make_gpu_op(const OpBuildEnv& env) {
  const Layer& layer = env.layer_ref();
  auto it = factories().find(layer.op());
  if (it == factories().end()) {
    std::string known;
    for (const std::string& n : gpu_ops()) known += (known.empty() ? "" : ", ") + n;
    throw ModelError(layer.origin().describe() + ": op '" + layer.op() + "' has no GPU implementation (GPU ops: " +
                     known + ")");
  }
  return it->second(env);
}

}  // namespace kiln::gpu
