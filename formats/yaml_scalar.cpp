#include "formats/yaml_scalar.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "formats/rules.h"

namespace kiln::yaml {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [-+]?[0-9]+
bool looks_int(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (!is_digit(s[i])) return false;
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool looks_float(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  std::size_t int_digits = 0;
  std::size_t frac_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

bool one_of(const std::string& s, const char* a, const char* b, const char* c) { return s == a || s == b || s == c; }
}  // namespace

Scalar resolve_scalar(const YAML::Node& node, bool& in_range) {
  in_range = true;
  Scalar out;
  if (!node.IsDefined() || node.IsNull()) return out;
  out.text = node.Scalar();
  out.kind = Scalar::Kind::String;
  // yaml-cpp tags untagged plain scalars "?"; quoted or explicitly tagged ones are taken as text.
  if (node.Tag() != "?") return out;
  const std::string& s = out.text;
  if (one_of(s, "true", "True", "TRUE") || one_of(s, "false", "False", "FALSE")) {
    out.kind = Scalar::Kind::Bool;
    out.b = s[0] == 't' || s[0] == 'T';
  } else if (looks_int(s)) {
    out.kind = Scalar::Kind::Int;
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    const auto r = std::from_chars(first, s.data() + s.size(), out.i);
    in_range = r.ec == std::errc();
    out.f = static_cast<double>(out.i);
  } else if (looks_float(s)) {
    out.kind = Scalar::Kind::Float;
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    const auto r = std::from_chars(first, s.data() + s.size(), out.f);
    in_range = r.ec == std::errc();
  } else {
    const bool neg = !s.empty() && s[0] == '-';
    const std::string body = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(1) : s;
    if (one_of(body, ".inf", ".Inf", ".INF")) {
      out.kind = Scalar::Kind::Float;
      out.f = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    } else if (one_of(s, ".nan", ".NaN", ".NAN")) {
      out.kind = Scalar::Kind::Float;
      out.f = std::numeric_limits<double>::quiet_NaN();
    }
  }
  return out;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing (null)";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  bool in_range = true;
  const Scalar s = resolve_scalar(node, in_range);
  switch (s.kind) {
    case Scalar::Kind::Bool:
      return "the boolean " + s.text;
    case Scalar::Kind::Int:
      return "the integer " + rules::quote(s.text);
    case Scalar::Kind::Float:
      return "the number " + rules::quote(s.text);
    default:
      return "the string " + rules::quote(s.text);
  }
}

int line_of(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

}  // namespace kiln::yaml
