// concat along channels on the GPU: per input, the runtime's copy kernel (engine/gpu/copy.h) into that
// input's channel slice of the output; the last slice reaches to the stored channels, so Fp16's pad
// channels are zeroed in the same launch. Inputs' own pad channels are never read. 16-byte moves
// where the slices and positions allow it (half NHWC slices of multiples of 8 channels; float32 rows
// of multiples of 4).
#include <vector>

#include "engine/gpu/copy.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/op.h"
#include "layers/concat/concat.h"

namespace kiln::gpu {

namespace {

OpDeclaration declare(const Layer&, Precision) { return {}; }

std::unique_ptr<GpuOp> build(const OpBuildEnv& env) {
  const Layer& layer = env.layer;
  const std::vector<int> ins = env.inputs;
  const int out = env.output;
  const Shape out_shape = layer.output_shape();
  const std::vector<Shape> in_shapes = layer.input_shapes();
  const Precision p = env.precision();
  return op_preparing_by("cuda kernel (copy into channel slices)", [=](const OpRunEnv& e, std::int64_t batch) {
    struct Slice {
      TensorView src, dst;
    };
    const TensorView y = e.view(out, out_shape, batch, p);
    std::vector<Slice> slices;
    std::int64_t c0 = 0;
    for (std::size_t i = 0; i < ins.size(); ++i) {
      const TensorView x = e.view(ins[i], in_shapes[i], batch, p);
      const bool last = i + 1 == ins.size();
      slices.push_back({x, y.channel_slice(c0, last ? y.cs - c0 : x.c)});
      c0 += x.c;
    }
    return prepared_call([slices](const OpRunEnv& r) {
      for (const Slice& s : slices) launch_copy(s.src, s.dst, r.stream);
    });
  });
}

}  // namespace

const GpuOpKind concat_gpu{&declare, &build};

}  // namespace kiln::gpu
