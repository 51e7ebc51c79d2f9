#include "layers/layer.h"

#include <algorithm>

#include "base/errors.h"
#include "base/text.h"

namespace kiln {

namespace {

constexpr std::int64_t kMaxDim = std::int64_t{1} << 40;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 50;

// Why `s` cannot be a tensor shape here, or empty when it can.
std::string shape_problem(const Shape& s) {
  if (s.empty()) return "has no dimensions (the batch comes first)";
  std::int64_t n = 1;
  for (std::int64_t d : s) {
    if (d < 1) return "has a dimension below 1";
    if (d > kMaxDim) return "has a dimension above 2^40";
    if (n > kMaxElements / d) return "has more than 2^50 elements";
    n *= d;
  }
  return {};
}

std::string rank_name(std::size_t rank) {
  if (rank == 4) return "4-D (NCHW)";
  if (rank == 2) return "2-D (NC)";
  return std::to_string(rank) + "-D";
}


}  // namespace

LayerBuildContext::LayerBuildContext(const LayerSpec& spec, std::vector<Shape> input_shapes, const Manifest& manifest)
    : spec_(spec),
      attrs_(spec.origin, spec.attributes.values()),
      input_shapes_(std::move(input_shapes)),
      manifest_(manifest) {
  if (input_shapes_.size() != spec_.inputs.size())
    throw UsageError(spec_.origin.describe() + ": built with " + std::to_string(input_shapes_.size()) +
                     " input shapes for " + std::to_string(spec_.inputs.size()) + " inputs");
  for (std::size_t i = 0; i < input_shapes_.size(); ++i) {
    const std::string problem = shape_problem(input_shapes_[i]);
    if (!problem.empty())
      fail("input '" + spec_.inputs[i] + "' of shape " + shape_to_string(input_shapes_[i]) + " " + problem);
  }
}

void LayerBuildContext::fail(const std::string& what) const {
  throw ModelError(spec_.origin.describe() + ": " + what);
}

void LayerBuildContext::fail_attribute(const std::string& key, const std::string& what) const {
  LayerOrigin at = spec_.origin;
  auto it = attrs_.values().find(key);
  if (it != attrs_.values().end() && it->second.line > 0) at.line = it->second.line;
  throw ModelError(at.describe() + ": attribute '" + key + "' " + what);
}

void LayerBuildContext::expect_input_count(std::size_t n) const {
  if (spec_.inputs.size() != n)
    fail("takes " + std::to_string(n) + (n == 1 ? " input" : " inputs") + ", found " +
         std::to_string(spec_.inputs.size()) + " (" + join_bounded(spec_.inputs, false) + ")");
}

void LayerBuildContext::expect_min_input_count(std::size_t n) const {
  if (spec_.inputs.size() < n)
    fail("takes at least " + std::to_string(n) + " inputs, found " + std::to_string(spec_.inputs.size()) + " (" +
         join_bounded(spec_.inputs, false) + ")");
}

void LayerBuildContext::expect_rank(std::size_t input, std::size_t rank) const {
  const Shape& s = input_shape(input);
  if (s.size() != rank)
    fail("input '" + spec_.inputs.at(input) + "' must be " + rank_name(rank) + ", found shape " + shape_to_string(s));
}

const TensorEntry& LayerBuildContext::weight(const std::string& role, const Shape& expected,
                                             const std::string& why) const {
  if (std::find(bound_roles_.begin(), bound_roles_.end(), role) == bound_roles_.end()) bound_roles_.push_back(role);
  auto it = spec_.weights.find(role);
  if (it == spec_.weights.end())
    fail("missing weight '" + role + "' (a tensor of shape " + shape_to_string(expected) + ")");
  const TensorEntry* t = manifest_.find(it->second);
  if (t == nullptr)
    fail("weight '" + role + "' names tensor " + it->second + ", which is not in " +
         (manifest_.path.empty() ? std::string("the manifest") : manifest_.path));
  // DType has only f32 and f16, both of which every backend accepts: no dtype check is needed.
  if (t->shape != expected)
    fail("weight '" + role + "' = " + t->name + " has shape " + shape_to_string(t->shape) + ", expected " +
         shape_to_string(expected) + (why.empty() ? "" : " (" + why + ")"));
  return *t;
}

const TensorEntry* LayerBuildContext::optional_weight(const std::string& role, const Shape& expected,
                                                      const std::string& why) const {
  if (spec_.weights.count(role) == 0) {
    if (std::find(bound_roles_.begin(), bound_roles_.end(), role) == bound_roles_.end()) bound_roles_.push_back(role);
    return nullptr;
  }
  return &weight(role, expected, why);
}

void LayerBuildContext::finish() const {
  attrs_.finish();
  for (const auto& kv : spec_.weights) {
    if (std::find(bound_roles_.begin(), bound_roles_.end(), kv.first) != bound_roles_.end()) continue;
    std::vector<std::string> roles = bound_roles_;
    std::sort(roles.begin(), roles.end());
    fail("weight role '" + kv.first + "' is not used by " + spec_.origin.op +
         (roles.empty() ? " (it takes no weights)" : " (it takes: " + join_bounded(roles, false, 40) + ")"));
  }
}

Layer::Layer(const LayerBuildContext& ctx, Shape output_shape)
    : origin_(ctx.origin()),
      input_names_(ctx.spec().inputs),
      input_shapes_(ctx.input_shapes()),
      output_shape_(std::move(output_shape)) {
  const std::string problem = shape_problem(output_shape_);
  if (!problem.empty()) ctx.fail("output shape " + shape_to_string(output_shape_) + " " + problem);
}

Shape Layer::at_batch(const Shape& s, std::int64_t batch) {
  Shape out = s;
  if (!out.empty()) out[0] = batch;
  return out;
}

const TensorEntry* Layer::keep(const TensorEntry* w) {
  if (w != nullptr) weights_.push_back(w);
  return w;
}

void Layer::check_forward(const CpuForwardArgs& args) const {
  const std::string where = origin_.describe() + ": forward_cpu: ";
  if (args.batch < 1 || args.batch > output_shape_.at(0))
    throw UsageError(where + "batch " + std::to_string(args.batch) + " is outside 1.." +
                     std::to_string(output_shape_.at(0)) + " (the built batch)");
  if (args.inputs.size() != input_shapes_.size())
    throw UsageError(where + "given " + std::to_string(args.inputs.size()) + " inputs, the layer has " +
                     std::to_string(input_shapes_.size()));
  for (std::size_t i = 0; i < args.inputs.size(); ++i)
    if (args.inputs[i] == nullptr) throw UsageError(where + "input " + std::to_string(i) + " is null");
  if (args.output == nullptr) throw UsageError(where + "output is null");
  if (!weights_.empty() && args.weights == nullptr) throw UsageError(where + "no CpuWeights given");
}

}  // namespace kiln
