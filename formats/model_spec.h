// Reader of `model.yaml` (formats/README.md). Produces a plain description of the network; it checks
// the file's structure (keys, types, names, that every input is defined before use) but not op
// semantics: ops, attributes, weights and shapes are checked by the layers when the graph is built.
//
// Errors: kiln::FormatError, message "<path>:<line>: <what>".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/api.h"
#include "formats/dtype.h"
#include "formats/manifest.h"

namespace kiln {

// One attribute value as written in YAML. Scalars and flat lists of scalars only.
struct AttrValue {
  enum class Kind { Int, Float, Bool, String, IntList, FloatList };
  Kind kind = Kind::Int;
  std::int64_t i = 0;
  double f = 0.0;  // also set for Int (so an int is accepted where a float is expected)
  bool b = false;
  std::string s;
  std::vector<std::int64_t> ints;
  std::vector<double> floats;  // also set for IntList
  std::string text;  // as written in the file ("3.0", "[3, 3.0]"), for messages
  int line = 0;
};

// Where a layer came from, for messages: "model.yaml:12: layer enc.0 (conv2d)".
struct KILN_API LayerOrigin {
  std::string file;
  int line = 0;
  std::string name;
  std::string op;
  std::string describe() const;
};

// Typed, consumption-tracking access to a layer's attributes. Each getter throws ModelError naming
// the file, line, layer, attribute, what was expected and what was found. finish() throws if any
// attribute was never read (an unknown key is usually a typo).
class KILN_API Attributes {
 public:
  Attributes() = default;
  Attributes(LayerOrigin origin, std::map<std::string, AttrValue> values);

  bool has(const std::string& key) const;
  std::int64_t get_int(const std::string& key) const;
  std::int64_t get_int(const std::string& key, std::int64_t fallback) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  // A string that must be one of `choices` (e.g. gelu's approximate: none | tanh).
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices,
                         const std::string& fallback) const;
  // An integer pair: `[a, b]` or a single integer `a` meaning `[a, a]`.
  std::vector<std::int64_t> get_pair(const std::string& key) const;
  std::vector<std::int64_t> get_pair(const std::string& key, std::vector<std::int64_t> fallback) const;
  void finish() const;

  const std::map<std::string, AttrValue>& values() const { return values_; }

 private:
  const AttrValue& lookup(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& expected, const AttrValue& found) const;
  LayerOrigin origin_;
  std::map<std::string, AttrValue> values_;
  mutable std::map<std::string, bool> used_;
};

struct InputSpec {
  std::string name;
  Shape shape;  // batch first: the example shape the model was exported with
  DType dtype = DType::F32;
  int line = 0;
  // A 4-D input whose height and width may change from run to run: the inclusive range
  // min_hw[0]..max_hw[0] × min_hw[1]..max_hw[1], which holds shape[2], shape[3]. Both empty for an
  // input whose every dimension but the batch is fixed.
  std::vector<std::int64_t> min_hw;
  std::vector<std::int64_t> max_hw;
  bool dynamic_hw() const { return !max_hw.empty(); }
};

struct LayerSpec {
  LayerOrigin origin;  // name, op, file, line
  std::vector<std::string> inputs;
  Attributes attributes;
  std::map<std::string, std::string> weights;  // role -> manifest tensor name
  const std::string& name() const { return origin.name; }
  const std::string& op() const { return origin.op; }
};

struct ModelSpec {
  std::string path;           // model.yaml as given
  std::string name;           // optional free text
  std::string manifest_path;  // resolved against the model's folder
  std::vector<InputSpec> inputs;
  std::vector<LayerSpec> layers;  // execution order
  std::vector<std::string> outputs;
  std::map<std::string, int> output_lines;  // output name -> line, for messages
};

// Parses model.yaml text; `path` is used for messages and to resolve the manifest name.
KILN_API ModelSpec parse_model(const std::string& text, const std::string& path);
KILN_API ModelSpec read_model(const std::string& path);

}  // namespace kiln
