// THE table of kiln's ops: one line per op name as model.yaml spells it, with
//   - its CPU factory, which validates the layer and builds its Layer (the reference implementation);
//   - its GPU op kind, KILN_GPU(name) for the gpu::GpuOpKind `name` that the op's folder defines in
//     <kind>_gpu.cpp, or KILN_CPU_ONLY("why") for an op that has no GPU implementation (the reason is
//     shown when such a model is loaded on the GPU, and by the test that checks this table).
// layers/registry.cpp expands the CPU column into kiln_layers, which stays CUDA-free, and
// layers/registry_gpu.cpp the GPU column into the GPU op library: one table, both backends.
//
// Adding an op is one folder layers/<kind>/ (its header declares the factory and the GPU kind) plus
// one line here; layers/README.md walks through it.
#pragma once

#include "layers/activation/activation.h"
#include "layers/batch_norm/batch_norm.h"
#include "layers/channel_shuffle/channel_shuffle.h"
#include "layers/channel_slice/channel_slice.h"
#include "layers/concat/concat.h"
#include "layers/conv/conv.h"
#include "layers/elementwise/elementwise.h"
#include "layers/flatten/flatten.h"
#include "layers/linear/linear.h"
#include "layers/layer_norm/layer_norm.h"
#include "layers/lrn/lrn.h"
#include "layers/pool/pool.h"
#include "layers/softmax/softmax.h"
#include "layers/upsample/upsample.h"

// OP(name, cpu factory, gpu column)
#define KILN_OP_TABLE(OP)                                          \
  OP("conv2d", make_conv, KILN_GPU(conv_gpu))                      \
  OP("conv_transpose2d", make_conv, KILN_GPU(conv_gpu))            \
  OP("batch_norm", make_batch_norm, KILN_GPU(batch_norm_gpu))      \
  OP("relu", make_activation, KILN_GPU(activation_gpu))            \
  OP("leaky_relu", make_activation, KILN_GPU(activation_gpu))      \
  OP("sigmoid", make_activation, KILN_GPU(activation_gpu))         \
  OP("tanh", make_activation, KILN_GPU(activation_gpu))            \
  OP("elu", make_activation, KILN_GPU(activation_gpu))             \
  OP("relu6", make_activation, KILN_GPU(activation_gpu))           \
  OP("hardtanh", make_activation, KILN_GPU(activation_gpu))        \
  OP("hardswish", make_activation, KILN_GPU(activation_gpu))       \
  OP("hardsigmoid", make_activation, KILN_GPU(activation_gpu))     \
  OP("silu", make_activation, KILN_GPU(activation_gpu))            \
  OP("gelu", make_activation, KILN_GPU(activation_gpu))            \
  OP("softplus", make_activation, KILN_GPU(activation_gpu))        \
  OP("mish", make_activation, KILN_GPU(activation_gpu))            \
  OP("prelu", make_activation, KILN_GPU(activation_gpu))           \
  OP("max_pool2d", make_pool, KILN_GPU(pool_gpu))                  \
  OP("avg_pool2d", make_pool, KILN_GPU(pool_gpu))                  \
  OP("global_avg_pool2d", make_pool, KILN_GPU(pool_gpu))           \
  OP("global_max_pool2d", make_pool, KILN_GPU(pool_gpu))           \
  OP("adaptive_avg_pool2d", make_pool, KILN_GPU(pool_gpu))         \
  OP("adaptive_max_pool2d", make_pool, KILN_GPU(pool_gpu))         \
  OP("linear", make_linear, KILN_GPU(linear_gpu))                  \
  OP("flatten", make_flatten, KILN_GPU(flatten_gpu))               \
  OP("lrn", make_lrn, KILN_GPU(lrn_gpu))                           \
  OP("softmax", make_softmax, KILN_GPU(softmax_gpu))               \
  OP("add", make_elementwise, KILN_GPU(elementwise_gpu))           \
  OP("sub", make_elementwise, KILN_GPU(elementwise_gpu))           \
  OP("mul", make_elementwise, KILN_GPU(elementwise_gpu))           \
  OP("div", make_elementwise, KILN_GPU(elementwise_gpu))           \
  OP("concat", make_concat, KILN_GPU(concat_gpu))                  \
  OP("upsample_nearest", make_upsample, KILN_GPU(upsample_gpu))    \
  OP("upsample_bilinear", make_upsample, KILN_GPU(upsample_gpu))    \
  OP("channel_slice", make_channel_slice, KILN_GPU(channel_slice_gpu))   \
  OP("channel_shuffle", make_channel_shuffle, KILN_GPU(channel_shuffle_gpu)) \
  OP("layer_norm", make_layer_norm, KILN_GPU(layer_norm_gpu))
