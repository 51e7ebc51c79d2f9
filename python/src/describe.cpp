#include "python/src/describe.h"

#include <pybind11/stl.h>

#include "engine/gpu/engine.h"

namespace py = pybind11;

namespace kiln::python {

namespace {

py::object attribute_value(const AttrValue& v) {
  switch (v.kind) {
    case AttrValue::Kind::Int: return py::int_(v.i);
    case AttrValue::Kind::Float: return py::float_(v.f);
    case AttrValue::Kind::Bool: return py::bool_(v.b);
    case AttrValue::Kind::String: return py::str(v.s);
    case AttrValue::Kind::IntList: return py::cast(v.ints);
    case AttrValue::Kind::FloatList: return py::cast(v.floats);
  }
  return py::none();
}

std::int64_t elements(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

py::list describe_tensors(const Graph& g, const std::vector<int>& ids) {
  py::list out;
  for (int id : ids) {
    py::dict t;
    t["name"] = g.tensors()[id].name;
    t["shape"] = g.tensors()[id].shape;
    out.append(t);
  }
  return out;
}

}  // namespace

py::list describe_inputs(const Engine& engine) {
  return describe_tensors(engine.graph(), engine.graph().input_tensors());
}
py::list describe_outputs(const Engine& engine) {
  return describe_tensors(engine.graph(), engine.graph().output_tensors());
}

py::list describe_layers(const Engine& engine) {
  const Graph& g = engine.graph();
  const gpu::GpuEngine* gpu = engine.gpu_engine().get();
  py::list layers;
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    const Layer& layer = *g.layers()[i];
    const LayerSpec& spec = g.spec().layers[i];
    const GraphTensor& output = g.tensors()[g.output_tensor_of(static_cast<int>(i))];
    py::dict d;
    d["name"] = layer.name();
    d["op"] = layer.op();
    d["inputs"] = layer.input_names();
    d["output"] = output.name;
    d["shape"] = output.shape;
    py::dict attributes;
    for (const auto& [key, value] : spec.attributes.values()) attributes[py::str(key)] = attribute_value(value);
    d["attributes"] = attributes;
    py::list weights;
    std::int64_t parameters = 0;
    for (const auto& [role, tensor_name] : spec.weights) {
      py::dict w;
      w["role"] = role;
      w["name"] = tensor_name;
      for (const TensorEntry* e : layer.weights()) {
        if (e == nullptr || e->name != tensor_name) continue;
        w["shape"] = e->shape;
        w["dtype"] = dtype_name(e->dtype);
        parameters += elements(e->shape);
      }
      weights.append(w);
    }
    d["weights"] = weights;
    d["parameters"] = parameters;
    d["flops_per_sample"] = layer.flops_per_sample();
    if (gpu) {
      const gpu::LayerReport& r = gpu->layer_reports().at(i);
      d["implementation"] = r.implementation;
      d["workspace_bytes"] = r.workspace_bytes;
    }
    layers.append(d);
  }
  return layers;
}

py::dict describe_engine(const Engine& engine) {
  const Graph& g = engine.graph();
  py::dict d;
  d["model"] = g.spec().path;
  d["name"] = g.spec().name;
  d["device"] = engine.on_gpu() ? "gpu" : "cpu";
  d["description"] = engine.description();
  d["precision"] = engine.precision();
  d["max_batch"] = g.max_batch();
  d["inputs"] = describe_inputs(engine);
  d["outputs"] = describe_outputs(engine);
  const py::list layers = describe_layers(engine);
  std::int64_t parameters = 0;
  for (const py::handle layer : layers) parameters += layer["parameters"].cast<std::int64_t>();
  d["parameters"] = parameters;
  const gpu::GpuEngine* gpu = engine.gpu_engine().get();
  d["activation_bytes"] = gpu ? gpu->memory_plan().arena_bytes : g.plan().arena_bytes;
  if (gpu) {
    d["weight_bytes"] = gpu->weight_bytes();
    d["workspace_bytes"] = gpu->workspace_bytes();
  }
  d["layers"] = layers;
  return d;
}

}  // namespace kiln::python
