// Checks model.yaml's text before yaml-cpp builds a tree of it (internal to kiln_formats):
//  1. the bytes: no NUL or other control characters (tab, CR and LF aside), valid UTF-8;
//  2. one pass of yaml-cpp's event parser, which builds nothing: no anchors (&a) or aliases (*a),
//     which kiln_export never writes and which let a small file expand to gigabytes; nesting at most
//     rules::kMaxYamlDepth deep; at most rules::kMaxYamlNodes nodes; scalars at most
//     rules::kMaxYamlScalarBytes long.
// Throws FormatError "<path>:<line>:<column>: ..." naming the limit; yaml-cpp's own syntax errors are
// reported by the caller (formats/model_spec.cpp) in kiln's words.
#pragma once

#include <string>

#include <cstddef>
#include <cstdint>

#include "formats/rules.h"

namespace kiln::yaml {

struct PrescanLimits {
  std::size_t depth = rules::kMaxYamlDepth;
  std::uint64_t nodes = rules::kMaxYamlNodes;
  std::size_t scalar_bytes = rules::kMaxYamlScalarBytes;
};

void prescan(const std::string& text, const std::string& path, const PrescanLimits& limits = {});

// yaml-cpp's message for a syntax error, in kiln's words where the original is cryptic.
std::string explain_syntax_error(const std::string& yaml_cpp_message);

}  // namespace kiln::yaml
