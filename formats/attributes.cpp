// Attributes and LayerOrigin (formats/model_spec.h). No YAML here: the reader builds AttrValues,
// this file only gives typed, consumption-tracking access to them.
#include <sstream>

#include "base/errors.h"
#include "base/text.h"
#include "formats/model_spec.h"

namespace kiln {

namespace {

std::string prefix(const LayerOrigin& origin, int line) {
  std::string where;
  if (!origin.file.empty()) where = origin.file + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
  return where + "layer " + origin.name + " (" + origin.op + ")";
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The value as the file wrote it where the reader kept that (so `[3, 3.0]` is not shown as `[3, 3]`),
// escaped and bounded like every file text in a message.
std::string show(const AttrValue& v) {
  switch (v.kind) {
    case AttrValue::Kind::Int:
      return "integer " + (v.text.empty() ? std::to_string(v.i) : bare_or_quoted(v.text));
    case AttrValue::Kind::Float:
      return "float " + (v.text.empty() ? number(v.f) : bare_or_quoted(v.text));
    case AttrValue::Kind::Bool:
      return std::string("boolean ") + (v.b ? "true" : "false");
    case AttrValue::Kind::String:
      return "string " + quote(v.s);
    case AttrValue::Kind::IntList:
    case AttrValue::Kind::FloatList: {
      if (!v.text.empty()) return "list " + bare_or_quoted(v.text);
      std::vector<std::string> items;
      for (double f : v.floats) items.push_back(number(f));
      return "list [" + join_bounded(items, false) + "]";
    }
  }
  return "a value of unknown kind";
}

}  // namespace

std::string LayerOrigin::describe() const { return prefix(*this, line); }

Attributes::Attributes(LayerOrigin origin, std::map<std::string, AttrValue> values)
    : origin_(std::move(origin)), values_(std::move(values)) {}

bool Attributes::has(const std::string& key) const { return values_.count(key) != 0; }

// A required attribute that is absent is often a misspelt one, so the message lists what was given.
const AttrValue& Attributes::lookup(const std::string& key) const {
  used_[key] = true;
  auto it = values_.find(key);
  if (it == values_.end()) {
    std::vector<std::string> given;
    for (const auto& kv : values_) given.push_back(kv.first);
    throw ModelError(prefix(origin_, origin_.line) + ": missing required attribute '" + key + "'" +
                     (given.empty() ? " (the layer has no attributes)" : " (given: " + join_bounded(given, false) + ")"));
  }
  return it->second;
}

void Attributes::fail(const std::string& key, const std::string& expected, const AttrValue& found) const {
  throw ModelError(prefix(origin_, found.line > 0 ? found.line : origin_.line) + ": attribute '" + key +
                   "': expected " + expected + ", found " + show(found));
}

std::int64_t Attributes::get_int(const std::string& key) const {
  const AttrValue& v = lookup(key);
  if (v.kind != AttrValue::Kind::Int) fail(key, "an integer", v);
  return v.i;
}

std::int64_t Attributes::get_int(const std::string& key, std::int64_t fallback) const {
  used_[key] = true;
  return has(key) ? get_int(key) : fallback;
}

double Attributes::get_float(const std::string& key, double fallback) const {
  used_[key] = true;
  if (!has(key)) return fallback;
  const AttrValue& v = lookup(key);
  if (v.kind != AttrValue::Kind::Int && v.kind != AttrValue::Kind::Float) fail(key, "a number", v);
  return v.kind == AttrValue::Kind::Int ? static_cast<double>(v.i) : v.f;
}

bool Attributes::get_bool(const std::string& key, bool fallback) const {
  used_[key] = true;
  if (!has(key)) return fallback;
  const AttrValue& v = lookup(key);
  if (v.kind != AttrValue::Kind::Bool) fail(key, "true or false", v);
  return v.b;
}

std::string Attributes::get_choice(const std::string& key, const std::vector<std::string>& choices,
                                   const std::string& fallback) const {
  used_[key] = true;
  if (!has(key)) return fallback;
  const AttrValue& v = lookup(key);
  std::string expected = "one of";
  for (std::size_t i = 0; i < choices.size(); ++i) expected += (i ? ", '" : " '") + choices[i] + "'";
  if (v.kind != AttrValue::Kind::String) fail(key, expected, v);
  for (const std::string& c : choices)
    if (v.s == c) return v.s;
  fail(key, expected, v);
}

std::vector<std::int64_t> Attributes::get_pair(const std::string& key) const {
  const AttrValue& v = lookup(key);
  if (v.kind == AttrValue::Kind::Int) return {v.i, v.i};
  if (v.kind == AttrValue::Kind::IntList && v.ints.size() == 2) return v.ints;
  fail(key, "an integer or a list of two integers [h, w]", v);
}

std::vector<std::int64_t> Attributes::get_pair(const std::string& key, std::vector<std::int64_t> fallback) const {
  used_[key] = true;
  return has(key) ? get_pair(key) : fallback;
}

// Every key a getter asked for, present or not, is one the op takes: that is the list a user with
// a typo needs to see.
void Attributes::finish() const {
  std::vector<std::string> unknown;
  for (const auto& kv : values_)
    if (used_.count(kv.first) == 0) unknown.push_back(kv.first);
  if (unknown.empty()) return;
  std::vector<std::string> known;
  for (const auto& kv : used_) known.push_back(kv.first);
  const int line = values_.at(unknown.front()).line;
  throw ModelError(prefix(origin_, line > 0 ? line : origin_.line) +
                   (unknown.size() == 1 ? ": unknown attribute " : ": unknown attributes ") +
                   join_bounded(unknown, true) + " (" + origin_.op +
                   (known.empty() ? " takes no attributes)" : " takes: " + join_bounded(known, false, 40) + ")"));
}

}  // namespace kiln
