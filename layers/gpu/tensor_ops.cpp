// add, concat, flatten, upsample_nearest: data movement and one small kernel each. Fp16 (Note [fp16
// layout], engine/gpu/layout.h): add and upsample run half kernels over the stored elements; concat
// copies each input's real channels into its slice of every NHWC pixel and zeroes the output's pad
// channels; flatten reorders NHWC into PyTorch's NCHW order unless that is already the stored order.
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/gpu/check.h"
#include "engine/gpu/layout.h"
#include "layers/gpu/kernels.h"
#include "layers/gpu/kernels_f16.h"
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
  if (env.options.precision == Precision::Fp16) {
    return simple_op("cuda kernel (fp16)", [=](const OpRunEnv& e, std::int64_t batch) {
      const auto n = static_cast<std::int64_t>(activation_bytes(Layer::at_batch(shape, batch), Precision::Fp16) / 2);
      std::vector<const void*> ptrs;
      for (int t : ins) ptrs.push_back(e.tensor(t));
      return prepared([ptrs, n, y = e.tensor(out)](const OpRunEnv& r) {
        launch_add_f16(ptrs.data(), static_cast<int>(ptrs.size()), y, n, r.stream);
      });
    });
  }
  return simple_op("cuda kernel", [=](const OpRunEnv& e, std::int64_t batch) {
    const std::int64_t n = static_cast<std::int64_t>(element_count(Layer::at_batch(shape, batch)));
    std::vector<const float*> ptrs;
    for (int t : ins) ptrs.push_back(e.tensor(t));
    return prepared([ptrs, n, y = e.tensor(out)](const OpRunEnv& r) {
      launch_add(ptrs.data(), static_cast<int>(ptrs.size()), y, n, r.stream);
    });
  });
}

namespace {

// Fp16: rows are pixels (N*H*W of them; N for [N, C]); input i's C_i real channels go to columns
// [c0, c0 + C_i) of rows `Cs_out` halves wide (one strided 2-D copy each), then the pad columns
// [C_out, Cs_out) are zeroed (one 2-D memset). Inputs' own pad channels are never read.
std::unique_ptr<GpuOp> make_concat_f16(const ConcatLayer& layer, const std::vector<int>& ins, int out) {
  constexpr Precision kP = Precision::Fp16;
  const Shape out_shape = layer.output_shape();
  const std::vector<Shape> in_shapes = layer.input_shapes();
  return simple_op("cudaMemcpy2DAsync (fp16 nhwc)", [=](const OpRunEnv& e, std::int64_t batch) {
    struct Copy {
      const std::byte* src;
      std::size_t src_pitch;
      std::size_t width;
    };
    const StoredDims od = stored_dims(Layer::at_batch(out_shape, batch), kP);
    const bool nhwc = is_nhwc(out_shape, kP);
    const auto rows = static_cast<std::size_t>(nhwc ? od.n * od.hw : batch);
    const auto dst_pitch = static_cast<std::size_t>(stored_channels(out_shape, kP)) * 2;
    std::vector<Copy> copies;
    for (std::size_t i = 0; i < ins.size(); ++i) {
      copies.push_back({reinterpret_cast<const std::byte*>(e.tensor(ins[i])),
                        static_cast<std::size_t>(stored_channels(in_shapes[i], kP)) * 2,
                        static_cast<std::size_t>(in_shapes[i][1]) * 2});
    }
    auto* dst = reinterpret_cast<std::byte*>(e.tensor(out));
    const auto real = static_cast<std::size_t>(out_shape[1]) * 2;
    return prepared([=](const OpRunEnv& r) {
      std::size_t col = 0;
      for (const Copy& c : copies) {
        KILN_CUDA_CHECK(cudaMemcpy2DAsync(dst + col, dst_pitch, c.src, c.src_pitch, c.width, rows,
                                          cudaMemcpyDeviceToDevice, r.stream));
        col += c.width;
      }
      if (dst_pitch > real) {
        KILN_CUDA_CHECK(cudaMemset2DAsync(dst + real, dst_pitch, 0, dst_pitch - real, rows, r.stream));
      }
    });
  });
}

}  // namespace

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
  if (env.options.precision == Precision::Fp16) return make_concat_f16(layer, ins, out);
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
// Fp16 with an NHWC input that is not already in logical order (fp16_flatten_is_view): a reorder kernel
// into the output's own block (the engine's plan gives it one).
std::unique_ptr<GpuOp> make_flatten_op(const OpBuildEnv& env) {
  const FlattenLayer& layer = layer_as<FlattenLayer>(env);
  const Shape in_shape = layer.input_shapes()[0];
  if (env.options.precision == Precision::Fp16 && !fp16_flatten_is_view(in_shape)) {
    const int in = env.inputs().at(0);
    const int out = env.output();
    return simple_op("cuda kernel (fp16 nhwc -> nchw order)", [=](const OpRunEnv&, std::int64_t batch) {
      const StoredDims d = stored_dims(Layer::at_batch(in_shape, batch), Precision::Fp16);
      return prepared([=](const OpRunEnv& e) {
        launch_nhwc_to_nchw_f16(e.tensor(in), e.tensor(out), d.n, d.c, d.hw, d.cs, e.stream);
      });
    });
  }
  return simple_op("view", [](const OpRunEnv&, std::int64_t) { return std::unique_ptr<PreparedOp>(); });
}

std::unique_ptr<GpuOp> make_upsample_op(const OpBuildEnv& env) {
  const UpsampleLayer& layer = layer_as<UpsampleLayer>(env);
  const Shape in_shape = layer.input_shapes()[0];
  const Pair scale = layer.params().scale;
  const int in = env.inputs().at(0);
  const int out = env.output();
  if (env.options.precision == Precision::Fp16) {
    const std::int64_t cs = stored_channels(in_shape, Precision::Fp16);
    return simple_op("cuda kernel (fp16 nhwc)", [=](const OpRunEnv&, std::int64_t batch) {
      return prepared([=](const OpRunEnv& e) {
        launch_upsample_nearest_f16(e.tensor(in), e.tensor(out), batch, in_shape[2], in_shape[3], cs, scale[0],
                                    scale[1], e.stream);
      });
    });
  }
  return simple_op("cuda kernel", [=](const OpRunEnv&, std::int64_t batch) {
    return prepared([=](const OpRunEnv& e) {
      launch_upsample_nearest(e.tensor(in), e.tensor(out), batch * in_shape[1], in_shape[2], in_shape[3], scale[0],
                              scale[1], e.stream);
    });
  });
}

}  // namespace kiln::gpu
