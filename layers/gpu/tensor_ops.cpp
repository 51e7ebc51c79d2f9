// add, concat, flatten, upsample_nearest: data movement and one small kernel each.
#include "engine/gpu/check.h"

#include <cstddef>
#include <memory>
#include <vector>
#include "layers/gpu/kernels.h"
#include "layers/gpu/ops.h"
#include "layers/tensor/add.h"
#include "layers/tensor/concat.h"
#include "layers/tensor/flatten.h"
#include "layers/tensor/upsample.h"

namespace kiln::gpu {

std::unique_ptr<GpuOp> make_add_op(const OpBuildEnv& env) {
  const AddLayer& layer = layer_as<AddLayer>(env);
  const Shape shape = layer.output_shape();
  const std::vector<int> ins = env.inputs();
  const int out = env.output();
  return simple_op("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const std::int64_t n = static_cast<std::int64_t>(element_count(Layer::at_batch(shape, batch)));
    std::vector<const float*> ptrs;
    for (int t : ins) ptrs.push_back(e.tensor(t));
    return prepared([ptrs, n, y = e.tensor(out)](const OpRunEnv& r) {
      launch_add(ptrs.data(), static_cast<int>(ptrs.size()), y, n, r.stream);
    });
  });
}

// Channel concatenation of NCHW / NC tensors: per input one strided 2-D copy (batch rows of
// C_i * inner floats into rows of C_total * inner floats). No kernel needed.
std::unique_ptr<GpuOp> make_concat_op(const OpBuildEnv& env) {
  const ConcatLayer& layer = layer_as<ConcatLayer>(env);
  const std::vector<int> ins = env.inputs();
  const int out = env.output();
  const std::int64_t inner = inner_size(layer.output_shape());
  const std::int64_t total_c = layer.output_shape()[1];
  std::vector<std::int64_t> channels;
  for (const Shape& s : layer.input_shapes()) channels.push_back(s[1]);
  return simple_op("cudaMemcpy2DAsync", [=](const OpRunEnv& e, std::int64_t batch) {
    struct Copy {
      const float* src;
      float* dst;
      std::size_t row_bytes;
    };
    std::vector<Copy> copies;
    std::int64_t c0 = 0;
    for (std::size_t i = 0; i < ins.size(); ++i) {
      copies.push_back({e.tensor(ins[i]), e.tensor(out) + c0 * inner,
                        static_cast<std::size_t>(channels[i] * inner) * sizeof(float)});
      c0 += channels[i];
    }
    const std::size_t out_pitch = static_cast<std::size_t>(total_c * inner) * sizeof(float);
    return prepared([copies, out_pitch, batch](const OpRunEnv& r) {
      for (const Copy& c : copies) {
        KILN_CUDA_CHECK(cudaMemcpy2DAsync(c.dst, out_pitch, c.src, c.row_bytes, c.row_bytes,
                                          static_cast<std::size_t>(batch), cudaMemcpyDeviceToDevice, r.stream));
      }
    });
  });
}

// A view: the memory plan gives the output the input's offset, so there is nothing to run.
std::unique_ptr<GpuOp> make_flatten_op(const OpBuildEnv& env) {
  layer_as<FlattenLayer>(env);
  return simple_op("view", [](const OpRunEnv&, std::int64_t) { return std::unique_ptr<PreparedOp>(); });
}

std::unique_ptr<GpuOp> make_upsample_op(const OpBuildEnv& env) {
  const UpsampleLayer& layer = layer_as<UpsampleLayer>(env);
  const Shape in_shape = layer.input_shapes()[0];
  const Pair scale = layer.params().scale;
  const int in = env.inputs().at(0);
  const int out = env.output();
  return simple_op("cuda kernel", [=](const OpRunEnv&, std::int64_t batch) {
    return prepared([=](const OpRunEnv& e) {
      launch_upsample_nearest(e.tensor(in), e.tensor(out), batch * in_shape[1], in_shape[2], in_shape[3], scale[0],
                              scale[1], e.stream);
    });
  });
}

}  // namespace kiln::gpu
