// model.yaml reader: checks structure, names and definition order (formats/README.md); op semantics
// are left to the layers. yaml-cpp keeps scalars as text, so types are resolved by formats/yaml_scalar.h.
#include "formats/model_spec.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <unordered_map>

#include "base/errors.h"
#include "formats/file_io.h"
#include "formats/rules.h"
#include "formats/yaml_prescan.h"
#include "formats/yaml_scalar.h"

namespace kiln {

namespace {
using rules::quote;
using YAML::Node;
using yaml::Scalar;

constexpr std::size_t kMaxInputs = 64;
constexpr std::size_t kMaxOutputs = 64;
constexpr std::size_t kMaxLayers = 100000;
constexpr std::size_t kMaxInputRank = 8;
constexpr std::int64_t kMaxInputDim = std::int64_t{1} << 31;
// The largest height or width a dynamic input may declare: the arena is sized for the range's max,
// so it bounds what a file can make a context allocate (with the shape's other dimensions, whose
// product the graph checks against 64-bit byte counts).
constexpr std::int64_t kMaxDynamicHw = std::int64_t{1} << 16;
constexpr const char* kTopKeys = "format, version, weights, inputs, layers, outputs";

class Ctx {
 public:
  explicit Ctx(const std::string& path) : path_(path) {}
  [[noreturn]] void fail(const Node& n, const std::string& msg) const { fail_at(yaml::line_of(n), msg); }
  [[noreturn]] void fail_at(int line, const std::string& msg) const {
    throw FormatError(rules::where(path_, line) + msg);
  }
  const std::string& path() const { return path_; }

 private:
  const std::string& path_;
};

// A YAML map whose keys are checked against a fixed set: unknown keys (usually typos) and duplicate keys
// (which yaml-cpp accepts silently) are errors.
class MapView {
 public:
  MapView(const Node& n, const std::string& what, std::initializer_list<const char*> allowed, const Ctx& c)
      : node_(n), what_(what), ctx_(c) {
    if (!n.IsMap()) c.fail(n, what + ": expected a map, found " + yaml::describe(n));
    for (auto it = n.begin(); it != n.end(); ++it) {
      const Node key = it->first;
      const std::string k = key.IsScalar() ? key.Scalar() : std::string();
      bool known = false;
      std::string list;
      for (const char* a : allowed) {
        known = known || k == a;
        list += std::string(list.empty() ? "" : ", ") + a;
      }
      if (!known) c.fail(key, what + ": unknown key " + quote(k) + " (expected one of: " + list + ")");
      if (!entries_.emplace(k, it->second).second) c.fail(key, what + ": key " + quote(k) + " appears twice");
    }
  }
  std::optional<Node> get(const std::string& key) const {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  Node required(const std::string& key) const {
    auto v = get(key);
    if (!v) ctx_.fail(node_, what_ + ": missing key '" + key + "'");
    return *v;
  }

 private:
  Node node_;
  std::string what_;
  const Ctx& ctx_;
  std::unordered_map<std::string, Node> entries_;
};

std::string text_of(const Node& n, const std::string& what, const Ctx& c) {
  if (!n.IsScalar()) c.fail(n, what + ": expected a string, found " + yaml::describe(n));
  return n.Scalar();
}

std::string name_of(const Node& n, const std::string& what, const Ctx& c) {
  const std::string s = text_of(n, what, c);
  const std::string problem = rules::check_name(s);
  if (!problem.empty()) c.fail(n, what + ": name " + quote(s) + " " + problem);
  return s;
}

std::int64_t int_of(const Node& n, const std::string& what, const Ctx& c) {
  bool in_range = true;
  const Scalar s = n.IsScalar() ? yaml::resolve_scalar(n, in_range) : Scalar{};
  if (s.kind != Scalar::Kind::Int) c.fail(n, what + ": expected an integer, found " + yaml::describe(n));
  if (!in_range) c.fail(n, what + ": integer " + quote(s.text) + " does not fit in 64 bits");
  return s.i;
}

Node list_of(const Node& n, const std::string& what, std::size_t min, std::size_t max, const Ctx& c) {
  if (!n.IsSequence()) c.fail(n, what + ": expected a list, found " + yaml::describe(n));
  if (n.size() < min || n.size() > max) {
    c.fail(n, what + ": expected " + std::to_string(min) + " to " + std::to_string(max) + " entries, found " +
                  std::to_string(n.size()));
  }
  return n;
}

AttrValue attr_of(const Node& n, const std::string& what, const Ctx& c) {
  AttrValue v;
  v.line = yaml::line_of(n);
  const std::string expected = "expected a number, boolean, string or flat list of numbers, found ";
  if (n.IsSequence()) {
    v.kind = AttrValue::Kind::IntList;
    std::vector<std::string> texts;
    for (const Node& e : n) {
      bool in_range = true;
      const Scalar s = e.IsScalar() ? yaml::resolve_scalar(e, in_range) : Scalar{};
      if (s.kind != Scalar::Kind::Int && s.kind != Scalar::Kind::Float)
        c.fail(e, what + ": list entries must be numbers, found " + yaml::describe(e));
      if (!in_range) c.fail(e, what + ": number " + quote(s.text) + " is out of range");
      if (s.kind == Scalar::Kind::Float) v.kind = AttrValue::Kind::FloatList;
      v.ints.push_back(s.i);
      v.floats.push_back(s.f);
      texts.push_back(s.text);
    }
    if (v.kind == AttrValue::Kind::FloatList) v.ints.clear();
    v.text = "[" + rules::join_bounded(texts, false) + "]";
    return v;
  }
  if (!n.IsScalar()) c.fail(n, what + ": " + expected + yaml::describe(n));
  bool in_range = true;
  const Scalar s = yaml::resolve_scalar(n, in_range);
  if (!in_range) c.fail(n, what + ": number " + quote(s.text) + " is out of range");
  v.text = s.text;
  switch (s.kind) {
    case Scalar::Kind::Int:
      v.kind = AttrValue::Kind::Int;
      v.i = s.i;
      v.f = s.f;
      break;
    case Scalar::Kind::Float:
      v.kind = AttrValue::Kind::Float;
      v.f = s.f;
      break;
    case Scalar::Kind::Bool:
      v.kind = AttrValue::Kind::Bool;
      v.b = s.b;
      break;
    case Scalar::Kind::String:
      v.kind = AttrValue::Kind::String;
      v.s = s.text;
      break;
    case Scalar::Kind::Null:
      c.fail(n, what + ": " + expected + "nothing (null)");
  }
  return v;
}

// Every name defined so far (model inputs and layers), with its line.
using Defined = std::unordered_map<std::string, int>;

void define(Defined& defined, const std::string& name, const Node& n, const Ctx& c) {
  const auto [it, inserted] = defined.emplace(name, yaml::line_of(n));
  if (!inserted) {
    c.fail(n, "name '" + name + "' is already used by the input or layer on line " + std::to_string(it->second));
  }
}

// `min_hw` and `max_hw`: a dynamic height × width range, both or neither, on a 4-D input, each a pair
// 1 <= d <= 2^16 with min <= the example shape's size <= max.
void read_hw_range(const MapView& m, const std::string& field, InputSpec& in, const Ctx& c) {
  const std::optional<Node> min = m.get("min_hw");
  const std::optional<Node> max = m.get("max_hw");
  if (!min && !max) return;
  const Node given = min ? *min : *max;
  if (!min || !max) c.fail(given, field + ": min_hw and max_hw go together (the range of a dynamic height × width)");
  if (in.shape.size() != 4) {
    c.fail(given, field + ": min_hw/max_hw: only a 4-D [N, C, H, W] input has a dynamic height × width, this one has "
                      "rank " + std::to_string(in.shape.size()));
  }
  const auto pair = [&](const Node& node, const std::string& key) {
    std::vector<std::int64_t> v;
    for (const Node& d : list_of(node, field + ": " + key, 2, 2, c)) {
      const std::int64_t x = int_of(d, field + ": " + key, c);
      if (x < 1 || x > kMaxDynamicHw) {
        c.fail(d, field + ": " + key + ": expected 1 <= d <= 65536, found " + std::to_string(x));
      }
      v.push_back(x);
    }
    return v;
  };
  in.min_hw = pair(*min, "min_hw");
  in.max_hw = pair(*max, "max_hw");
  const char* axis[] = {"height", "width"};
  for (int k = 0; k < 2; ++k) {
    const std::int64_t example = in.shape[static_cast<std::size_t>(2 + k)];
    if (in.min_hw[k] > example || example > in.max_hw[k]) {
      c.fail(given, field + ": the example " + axis[k] + " " + std::to_string(example) + " is outside min_hw..max_hw " +
                        std::to_string(in.min_hw[k]) + ".." + std::to_string(in.max_hw[k]));
    }
  }
}

InputSpec input_of(const Node& n, std::size_t index, Defined& defined, const Ctx& c) {
  const std::string what = "inputs[" + std::to_string(index) + "]";
  const MapView m(n, what, {"name", "shape", "dtype", "min_hw", "max_hw"}, c);
  InputSpec in;
  in.line = yaml::line_of(n);
  const Node name = m.required("name");
  in.name = name_of(name, what + ": name", c);
  define(defined, in.name, name, c);
  const std::string field = "input '" + in.name + "'";
  const Node dtype = m.required("dtype");
  const std::string dt = text_of(dtype, field + ": dtype", c);
  if (dt != "f32") c.fail(dtype, field + ": dtype: expected f32, found " + quote(dt));
  in.dtype = DType::F32;
  const Node shape = list_of(m.required("shape"), field + ": shape", 1, kMaxInputRank, c);
  for (const Node& d : shape) {
    const std::int64_t v = int_of(d, field + ": shape", c);
    if (v < 1 || v > kMaxInputDim) c.fail(d, field + ": shape: expected 1 <= d <= 2^31, found " + std::to_string(v));
    in.shape.push_back(v);
  }
  read_hw_range(m, field, in, c);
  return in;
}

// First line of each layer name, so that a forward reference can say where the name is defined.
Defined layer_lines(const Node& layers) {
  Defined out;
  for (const Node& l : layers) {
    if (!l.IsMap()) continue;
    const Node name = l["name"];
    if (name.IsDefined() && name.IsScalar()) out.emplace(name.Scalar(), yaml::line_of(l));
  }
  return out;
}

LayerSpec layer_of(const Node& n, std::size_t index, Defined& defined, const Defined& all_layers, const Ctx& c) {
  const std::string what = "layers[" + std::to_string(index) + "]";
  const MapView m(n, what, {"name", "op", "inputs", "attributes", "weights"}, c);
  LayerSpec l;
  l.origin.file = c.path();
  l.origin.line = yaml::line_of(n);
  const Node name = m.required("name");
  l.origin.name = name_of(name, what + ": name", c);
  const std::string field = "layer '" + l.origin.name + "'";
  l.origin.op = name_of(m.required("op"), field + ": op", c);

  for (const Node& i : list_of(m.required("inputs"), field + ": inputs", 1, kMaxLayers, c)) {
    const std::string in = name_of(i, field + ": inputs", c);
    if (defined.count(in) == 0) {
      const auto later = all_layers.find(in);
      if (in == l.origin.name) c.fail(i, field + ": input '" + in + "' is the layer's own output");
      if (later != all_layers.end()) {
        c.fail(i, field + ": input '" + in + "' is used before it is defined (layer '" + in + "' is on line " +
                      std::to_string(later->second) + "; layers run in file order)");
      }
      c.fail(i, field + ": input '" + in + "' is not defined: expected a model input or an earlier layer");
    }
    l.inputs.push_back(in);
  }
  define(defined, l.origin.name, name, c);

  std::map<std::string, AttrValue> attrs;
  if (const auto a = m.get("attributes"); a && !a->IsNull()) {
    if (!a->IsMap()) c.fail(*a, field + ": attributes: expected a map, found " + yaml::describe(*a));
    for (auto it = a->begin(); it != a->end(); ++it) {
      const std::string key = name_of(it->first, field + ": attribute key", c);
      const std::string attr_what = field + ": attribute '" + key + "'";
      if (!attrs.emplace(key, attr_of(it->second, attr_what, c)).second)
        c.fail(it->first, attr_what + " appears twice");
    }
  }
  l.attributes = Attributes(l.origin, std::move(attrs));

  if (const auto w = m.get("weights"); w && !w->IsNull()) {
    if (!w->IsMap())
      c.fail(*w, field + ": weights: expected a map from role to tensor name, found " + yaml::describe(*w));
    for (auto it = w->begin(); it != w->end(); ++it) {
      const std::string role = name_of(it->first, field + ": weight role", c);
      const std::string tensor = name_of(it->second, field + ": weight '" + role + "'", c);
      if (!l.weights.emplace(role, tensor).second) c.fail(it->first, field + ": weight '" + role + "' appears twice");
    }
  }
  return l;
}

ModelSpec build(const Node& root, const std::string& path) {
  const Ctx c(path);
  ModelSpec spec;
  spec.path = path;
  if (!root.IsMap())
    c.fail(root, std::string("expected a map with keys ") + kTopKeys + "; found " + yaml::describe(root));
  const Node format = root["format"];
  if (!format.IsDefined()) c.fail(root, "missing key 'format' (expected 'format: kiln-model')");
  if (!format.IsScalar() || format.Scalar() != "kiln-model")
    c.fail(format, "format: expected 'kiln-model', found " + yaml::describe(format));
  const Node version = root["version"];
  if (!version.IsDefined()) c.fail(root, "missing key 'version' (expected 'version: 1')");
  const std::int64_t v = int_of(version, "version", c);
  if (v > 1) c.fail(version, "version " + std::to_string(v) + " is newer than this reader (it reads version 1)");
  if (v != 1) c.fail(version, "version: expected 1, found " + std::to_string(v));

  const MapView top(root, "model", {"format", "version", "name", "weights", "inputs", "layers", "outputs"}, c);
  if (const auto n = top.get("name")) spec.name = text_of(*n, "name", c);
  const Node weights = top.required("weights");
  const std::string manifest = text_of(weights, "weights", c);
  const std::string problem = rules::check_file_name(manifest);
  if (!problem.empty()) c.fail(weights, "weights: file name " + quote(manifest) + " " + problem);
  spec.manifest_path = (std::filesystem::path(path).parent_path() / manifest).string();

  Defined defined;
  const Node inputs = list_of(top.required("inputs"), "inputs", 1, kMaxInputs, c);
  for (std::size_t i = 0; i < inputs.size(); ++i) spec.inputs.push_back(input_of(inputs[i], i, defined, c));

  const Node layers = list_of(top.required("layers"), "layers", 1, kMaxLayers, c);
  const Defined all_layers = layer_lines(layers);
  spec.layers.reserve(layers.size());
  std::size_t index = 0;
  for (const Node& l : layers) spec.layers.push_back(layer_of(l, index++, defined, all_layers, c));

  for (const Node& o : list_of(top.required("outputs"), "outputs", 1, kMaxOutputs, c)) {
    const std::string name = name_of(o, "outputs", c);
    if (defined.count(name) == 0)
      c.fail(o, "output '" + name + "' is not defined: expected the name of a model input or a layer");
    if (!spec.output_lines.emplace(name, yaml::line_of(o)).second) c.fail(o, "output '" + name + "' is listed twice");
    spec.outputs.push_back(name);
  }
  return spec;
}

// YAML::Load reads only the first document; a later one would be ignored silently. A document starts
// with a "---" line and ends with a "..." line, both at column 0; returns the line that starts a second
// one (or has content after an end marker), else 0.
int second_document_line(const std::string& text) {
  bool content = false;
  bool ended = false;
  int line = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view l(text.data() + pos, nl - pos);
    pos = nl + 1;
    ++line;
    auto marker = [&](const char* m) {
      return l.substr(0, 3) == m && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    };
    if (marker("---")) {
      if (content || ended) return line;
      content = true;
      continue;
    }
    if (marker("...")) {
      ended = true;
      continue;
    }
    const std::size_t first = l.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || l[first] == '#' || (!content && l[0] == '%')) continue;
    if (ended) return line;
    content = true;
  }
  return 0;
}

[[noreturn]] void rethrow_yaml(const YAML::Exception& e, const std::string& path, const char* what) {
  const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
  const std::string column = e.mark.is_null() ? "" : " at column " + std::to_string(e.mark.column + 1);
  throw FormatError(rules::where(path, line) + what + column + ": " + yaml::explain_syntax_error(e.msg));
}
}  // namespace

ModelSpec parse_model(const std::string& text, const std::string& path) {
  if (text.size() > rules::kMaxModelBytes) {
    throw FormatError(path + ": model is " + std::to_string(text.size()) + " bytes, expected at most " +
                      std::to_string(rules::kMaxModelBytes));
  }
  if (const int line = second_document_line(text))
    throw FormatError(rules::where(path, line) + "expected one YAML document, found the start of another");
  Node root;
  try {
    yaml::prescan(text, path);
    // Not LoadAll: yaml-cpp 0.7's LoadAll loops forever on some malformed input (jbeder/yaml-cpp#1040).
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    rethrow_yaml(e, path, "YAML syntax error");
  }
  if (root.IsNull())
    throw FormatError(path + ": expected a map with keys " + kTopKeys + "; found nothing (an empty document)");
  try {
    return build(root, path);
  } catch (const YAML::Exception& e) {
    rethrow_yaml(e, path, "YAML error");
  }
}

ModelSpec read_model(const std::string& path) {
  return parse_model(fileio::read_text_file(path, rules::kMaxModelBytes, "model"), path);
}

}  // namespace kiln
