// Factories of the GPU ops, one per layer kind (layers/gpu/<kind>.cpp), filled into the registry in
// layers/gpu/registry.cpp. Each reads the CPU Layer's parameters (layers/<group>/<kind>.h) and weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/gpu/op.h"
#include "engine/gpu/resource.h"
#include "engine/gpu/weights.h"

namespace kiln::gpu {

std::unique_ptr<GpuOp> make_conv_op(const OpBuildEnv& env);        // conv2d, conv_transpose2d
std::unique_ptr<GpuOp> make_activation_op(const OpBuildEnv& env);  // relu, leaky_relu, sigmoid, tanh, elu
std::unique_ptr<GpuOp> make_batch_norm_op(const OpBuildEnv& env);
std::unique_ptr<GpuOp> make_pool_op(const OpBuildEnv& env);        // max_pool2d, avg_pool2d, global_avg_pool2d
std::unique_ptr<GpuOp> make_linear_op(const OpBuildEnv& env);
std::unique_ptr<GpuOp> make_lrn_op(const OpBuildEnv& env);
std::unique_ptr<GpuOp> make_softmax_op(const OpBuildEnv& env);
std::unique_ptr<GpuOp> make_add_op(const OpBuildEnv& env);
std::unique_ptr<GpuOp> make_concat_op(const OpBuildEnv& env);
std::unique_ptr<GpuOp> make_flatten_op(const OpBuildEnv& env);
std::unique_ptr<GpuOp> make_upsample_op(const OpBuildEnv& env);

// The layer as its concrete class; ModelError naming the layer if the registry paired an op with the
// wrong class (a kiln bug, reported rather than crashed on).
template <class L>
const L& layer_as(const OpBuildEnv& env) {
  const L* l = dynamic_cast<const L*>(&env.layer_ref());
  if (!l) {
    throw ModelError(env.layer_ref().origin().describe() + ": the GPU backend does not recognise this layer's class");
  }
  return *l;
}

// Elements per channel: the product of the dimensions after the second (1 for [N, C]).
inline std::int64_t inner_size(const Shape& s) {
  std::int64_t n = 1;
  for (std::size_t i = 2; i < s.size(); ++i) n *= s[i];
  return n;
}

}  // namespace kiln::gpu
