#include "engine/layer_info.h"

#include "formats/dtype.h"

namespace kiln {

namespace {

// A list as written ("[3, 3]") without its spaces, so that a table cell holds no blanks but between attributes.
std::string compact(std::string text) {
  std::string out;
  for (const char c : text) {
    if (c != ' ') out += c;
  }
  return out;
}

Json value_json(const AttrValue& v) {
  switch (v.kind) {
    case AttrValue::Kind::Int:
      return v.i;
    case AttrValue::Kind::Float:
      return v.f;
    case AttrValue::Kind::Bool:
      return v.b;
    case AttrValue::Kind::String:
      return v.s;
    case AttrValue::Kind::IntList:
      return v.ints;
    case AttrValue::Kind::FloatList:
      return v.floats;
  }
  return v.text;
}

Json tensors_json(const Graph& g, const std::vector<int>& ids) {
  Json out = Json::array();
  for (int id : ids) {
    const GraphTensor& t = g.tensors()[static_cast<std::size_t>(id)];
    Json entry{{"name", t.name}, {"shape", t.shape}};
    if (t.producer < 0) {  // a model input: its dynamic height × width range, if it has one
      for (const InputSpec& in : g.spec().inputs) {
        if (in.name == t.name && in.dynamic_hw()) entry["hw_range"] = {in.min_hw, in.max_hw};
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

std::vector<LayerWeight> layer_weights(const Graph& g, std::size_t layer) {
  const LayerSpec& spec = g.spec().layers.at(layer);
  std::vector<LayerWeight> out;
  for (const TensorEntry* t : g.layers().at(layer)->weights()) {
    std::string role;
    for (const auto& [r, name] : spec.weights) {
      if (name == t->name) role = r;
    }
    out.push_back(LayerWeight{role, t});
  }
  return out;
}

std::uint64_t layer_parameters(const Graph& g, std::size_t layer) {
  std::uint64_t n = 0;
  for (const TensorEntry* t : g.layers().at(layer)->weights()) n += element_count(t->shape);
  return n;
}

std::uint64_t parameter_count(const Graph& g) {
  std::uint64_t n = 0;
  for (const TensorEntry& t : g.manifest().tensors) n += element_count(t.shape);
  return n;
}

std::string attributes_text(const Attributes& a) {
  std::string out;
  for (const auto& [key, v] : a.values()) out += (out.empty() ? "" : " ") + key + "=" + compact(v.text);
  return out;
}

std::string weights_text(const std::vector<LayerWeight>& w) {
  std::string out;
  for (const LayerWeight& x : w) {
    out +=
        (out.empty() ? "" : ", ") + x.role + " " + shape_to_string(x.tensor->shape) + " " + dtype_name(x.tensor->dtype);
  }
  return out;
}

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

Json attributes_json(const Attributes& a) {
  Json out = Json::object();
  for (const auto& [key, v] : a.values()) out[key] = value_json(v);
  return out;
}

Json model_json(const Graph& g, const std::string& device) {
  std::uint64_t weight_bytes = 0;
  for (const TensorEntry& e : g.manifest().tensors) weight_bytes += e.nbytes;
  Json j = {{"model", g.spec().path},
            {"name", g.spec().name},
            {"device", device},
            {"batch", g.max_batch()},
            {"inputs", tensors_json(g, g.input_tensors())},
            {"outputs", tensors_json(g, g.output_tensors())},
            {"parameters", parameter_count(g)},
            {"weights_file", g.manifest().path},
            {"weight_bytes", weight_bytes},
            {"layers", Json::array()}};
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    const Layer& l = *g.layers()[i];
    Json weights = Json::array();
    for (const LayerWeight& w : layer_weights(g, i)) {
      weights.push_back({{"role", w.role},
                         {"name", w.tensor->name},
                         {"shape", w.tensor->shape},
                         {"dtype", dtype_name(w.tensor->dtype)},
                         {"parameters", element_count(w.tensor->shape)}});
    }
    j["layers"].push_back({{"index", i},
                           {"name", l.name()},
                           {"op", l.op()},
                           {"inputs", l.input_names()},
                           {"output", l.name()},
                           {"output_shape", l.output_shape()},
                           {"attributes", attributes_json(g.spec().layers[i].attributes)},
                           {"weights", std::move(weights)},
                           {"parameters", layer_parameters(g, i)},
                           {"flops", l.flops_per_sample() * static_cast<double>(g.max_batch())}});
  }
  return j;
}

}  // namespace kiln
