// Resolution of YAML plain scalars by the YAML 1.2 core schema (yaml-cpp keeps every scalar as text).
// Internal to kiln_formats.
#pragma once

#include <cstdint>
#include <string>

namespace YAML {
class Node;
}

namespace kiln::yaml {

struct Scalar {
  enum class Kind { Null, Bool, Int, Float, String };
  Kind kind = Kind::Null;
  bool b = false;
  std::int64_t i = 0;
  double f = 0.0;  // also set for Int
  std::string text;
};

// Resolves a scalar or null node: quoted scalars are strings; plain ones are null (`~`, `null`, empty),
// bool (`true`/`false`, also capitalised), int (`[-+]?[0-9]+`), float (decimal/exponent, `.inf`, `.nan`)
// or else strings. Returns false in `in_range` when an int does not fit in 64 bits or a float in a double.
Scalar resolve_scalar(const YAML::Node& node, bool& in_range);

// "a map", "a list", "a string", "an integer", ... for "expected X, found Y" messages.
std::string describe(const YAML::Node& node);

// The node's 1-based line, or 0 when yaml-cpp does not know it.
int line_of(const YAML::Node& node);

}  // namespace kiln::yaml
