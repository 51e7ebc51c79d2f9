// The layer contract. A layer kind (conv2d, relu, ...) is a subclass of Layer living in its own file
// pair under layers/, created through the registry (layers/registry.h).
//
// Lifecycle (fixed for every kind):
//   1. build: the factory receives a LayerBuildContext, reads and validates its attributes, binds its
//      weights (checking their shapes), infers its output shape. Every error happens here and is a
//      ModelError naming the file, line, layer and field. A built Layer is immutable.
//   2. forward_cpu(...) const: the plain reference implementation, run over the planned arena. It is
//      the oracle every GPU kernel is tested against and the fallback on machines without a GPU.
// Backends (the GPU one) read a layer's public parameters to build their own kernels; they never
// change the Layer.
//
// Shapes: NCHW (4-D) or NC (2-D), batch first. A layer is built for a maximum batch N; it runs for
// any batch 1..N, with every shape's first dimension replaced by the running batch.
//
// Thread-safety: a built Layer is read-only; forward_cpu may run concurrently on distinct buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/api.h"
#include "formats/manifest.h"
#include "formats/model_spec.h"

namespace kiln {

// Everything a layer may look at while it is built. `spec` and `manifest` are held by reference and
// must outlive the context; built layers keep pointers to the manifest's TensorEntry objects, so the
// manifest must outlive every layer built from it and its `tensors` must not change (moving the
// Manifest keeps the entries in place; a copy's entries are new objects).
// Input shapes are at the built (maximum) batch; each must have rank >= 1, dimensions in [1, 2^40]
// and at most 2^50 elements (a ModelError otherwise).
class LayerBuildContext {
 public:
  LayerBuildContext(const LayerSpec& spec, std::vector<Shape> input_shapes, const Manifest& manifest);

  const LayerSpec& spec() const { return spec_; }
  const LayerOrigin& origin() const { return spec_.origin; }
  // A copy of the spec's attributes carrying this layer's origin, so messages name the layer whatever
  // the reader put there, and consumption is tracked per build.
  const Attributes& attrs() const { return attrs_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const Shape& input_shape(std::size_t i) const { return input_shapes_.at(i); }

  // Throws ModelError "<file>:<line>: layer <name> (<op>): <what>".
  [[noreturn]] void fail(const std::string& what) const;
  // Same, at the line of attribute `key` when it is written: "<file>:<line>: layer ...: attribute
  // 'stride' <what>".
  [[noreturn]] void fail_attribute(const std::string& key, const std::string& what) const;

  // Input-count and rank checks with standard messages.
  void expect_input_count(std::size_t n) const;
  void expect_min_input_count(std::size_t n) const;
  void expect_rank(std::size_t input, std::size_t rank) const;

  // The manifest tensor bound to `role`; must exist, be f32 or f16 and have exactly `expected` shape.
  // ("layer enc.3 (conv2d): weight 'weight' = enc.3.weight has shape [32,32,3,3], expected [64,32,3,3]")
  // `why`, when given, is appended in parentheses to explain the expected shape ("input has 64
  // channels; layout [out_channels, in_channels/groups, kh, kw]").
  const TensorEntry& weight(const std::string& role, const Shape& expected, const std::string& why = {}) const;
  // Same, but nullptr when the layer names no tensor for `role`.
  const TensorEntry* optional_weight(const std::string& role, const Shape& expected,
                                     const std::string& why = {}) const;

  // Throws if an attribute was never read (unknown key, listing the keys the op takes) or the layer
  // names a weight role the op never asked for. Factories call it last; build_layer calls it again.
  void finish() const;

 private:
  const LayerSpec& spec_;
  Attributes attrs_;
  std::vector<Shape> input_shapes_;
  const Manifest& manifest_;
  mutable std::vector<std::string> bound_roles_;  // every role asked for, bound or absent
};

// Float32 views of the weights for the CPU path (f16 weights are converted once at load).
class KILN_API CpuWeights {
 public:
  virtual ~CpuWeights() = default;
  virtual const float* get(const TensorEntry& tensor) const = 0;
};

struct CpuForwardArgs {
  std::vector<const float*> inputs;  // one per layer input, contiguous, shapes = input_shapes at `batch`
  float* output = nullptr;           // contiguous, output_shape at `batch`; may equal inputs[0] when
                                     // the layer reports can_run_in_place()
  std::int64_t batch = 1;
  const CpuWeights* weights = nullptr;
};

class KILN_API Layer {
 public:
  // Records the layer's origin, inputs and output shape; throws ModelError when the output shape has
  // a dimension < 1 or > 2^40 or more than 2^50 elements (kinds report their own, clearer errors first).
  Layer(const LayerBuildContext& ctx, Shape output_shape);
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const LayerOrigin& origin() const { return origin_; }
  const std::string& name() const { return origin_.name; }
  const std::string& op() const { return origin_.op; }
  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }  // at the built batch
  const Shape& output_shape() const { return output_shape_; }               // at the built batch
  // Every weight the layer bound, for listings and uploads.
  const std::vector<const TensorEntry*>& weights() const { return weights_; }

  virtual void forward_cpu(const CpuForwardArgs& args) const = 0;

  // Memory-planning hints. A view's output is input 0's memory reinterpreted (flatten). An in-place
  // layer's output may overwrite input 0 when that input dies here (elementwise ops).
  virtual bool is_view() const { return false; }
  virtual bool can_run_in_place() const { return false; }

  // Floating-point operations per sample (2 per multiply-add), for profiles and reports.
  virtual double flops_per_sample() const { return 0.0; }

  // `s` with its first dimension replaced by `batch`.
  static Shape at_batch(const Shape& s, std::int64_t batch);

 protected:
  // Records a bound weight so weights() lists it (nullptr is ignored); returns its argument.
  const TensorEntry* keep(const TensorEntry* w);
  // Throws UsageError unless `args` fits this layer: 1 <= batch <= built batch, one non-null pointer
  // per input, a non-null output, CpuWeights present when the layer has weights. forward_cpu calls it first.
  void check_forward(const CpuForwardArgs& args) const;

 private:
  LayerOrigin origin_;
  std::vector<std::string> input_names_;
  std::vector<Shape> input_shapes_;
  Shape output_shape_;
  std::vector<const TensorEntry*> weights_;
};

}  // namespace kiln
