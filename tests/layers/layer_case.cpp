#include "tests/layers/layer_case.h"

#include "base/errors.h"
#include "layers/registry.h"

namespace kiln::test {

LayerCase::LayerCase(std::string op, std::vector<Shape> shapes, std::string name) : input_shapes(std::move(shapes)) {
  spec.origin.file = "model.yaml";
  spec.origin.line = 12;
  spec.origin.name = std::move(name);
  spec.origin.op = std::move(op);
  for (std::size_t i = 0; i < input_shapes.size(); ++i) spec.inputs.push_back("in" + std::to_string(i));
  manifest.path = "weights.manifest";
}

LayerCase& LayerCase::attr(const std::string& key, AttrValue v) {
  v.line = 14;
  attrs_[key] = std::move(v);
  return *this;
}

LayerCase& LayerCase::attr(const std::string& key, std::int64_t v) {
  AttrValue a;
  a.kind = AttrValue::Kind::Int;
  a.i = v;
  a.f = static_cast<double>(v);
  return attr(key, a);
}

LayerCase& LayerCase::attr(const std::string& key, double v) {
  AttrValue a;
  a.kind = AttrValue::Kind::Float;
  a.f = v;
  return attr(key, a);
}

LayerCase& LayerCase::attr(const std::string& key, bool v) {
  AttrValue a;
  a.kind = AttrValue::Kind::Bool;
  a.b = v;
  return attr(key, a);
}

LayerCase& LayerCase::attr(const std::string& key, const char* v) {
  AttrValue a;
  a.kind = AttrValue::Kind::String;
  a.s = v;
  a.text = v;
  return attr(key, a);
}

LayerCase& LayerCase::attr(const std::string& key, std::vector<std::int64_t> v) {
  AttrValue a;
  a.kind = AttrValue::Kind::IntList;
  for (std::int64_t x : v) a.floats.push_back(static_cast<double>(x));
  a.ints = std::move(v);
  return attr(key, a);
}

LayerCase& LayerCase::weight(const std::string& role, const Shape& shape, std::vector<float> data, DType dtype) {
  TensorEntry e;
  e.name = spec.origin.name + "." + role;
  e.dtype = dtype;
  e.shape = shape;
  e.nbytes = static_cast<std::uint64_t>(count(shape)) * dtype_size(dtype);
  e.line = 7 + static_cast<int>(manifest.tensors.size());
  if (data.empty()) data.assign(static_cast<std::size_t>(count(shape)), 0.0f);
  weights.data[e.name] = std::move(data);
  spec.weights[role] = e.name;
  manifest.tensors.push_back(std::move(e));
  return *this;
}

LayerCase& LayerCase::bind(const std::string& role, const std::string& tensor) {
  spec.weights[role] = tensor;
  return *this;
}

std::unique_ptr<Layer> LayerCase::build() {
  spec.attributes = Attributes(spec.origin, attrs_);
  LayerBuildContext ctx(spec, input_shapes, manifest);
  return build_layer(ctx);
}

std::string LayerCase::build_error() {
  try {
    build();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "<no error>";
}

std::vector<float> LayerCase::run(const Layer& layer, const std::vector<std::vector<float>>& inputs,
                                  std::int64_t batch) {
  CpuForwardArgs args;
  args.batch = batch > 0 ? batch : layer.output_shape()[0];
  for (const auto& in : inputs) args.inputs.push_back(in.data());
  std::vector<float> out(static_cast<std::size_t>(count(Layer::at_batch(layer.output_shape(), args.batch))), -7.0f);
  args.output = out.data();
  args.weights = &weights;
  layer.forward_cpu(args);
  return out;
}

std::int64_t count(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s) n *= d;
  return n;
}

std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace kiln::test
