// Rules shared by the manifest reader, the manifest writer and the model.yaml reader (formats/README.md):
// tensor/layer name characters, file names, numeric limits. Internal to kiln_formats.
//
// The check_* functions return an empty string when the value is acceptable, otherwise a phrase that
// completes "<what> ..." in an error message, e.g. "is 300 characters long, expected at most 256".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.h"

namespace kiln::rules {

constexpr std::size_t kMaxLineBytes = 4096;
constexpr std::uint64_t kMaxManifestBytes = 256ull << 20;
constexpr std::uint64_t kMaxModelBytes = 64ull << 20;
constexpr std::size_t kMaxNameChars = 256;
constexpr std::size_t kMaxFileNameChars = 255;
constexpr std::uint64_t kMaxTensors = 1000000;
constexpr std::size_t kMaxRank = 8;
constexpr std::uint64_t kMaxTensorDim = 1ull << 40;
constexpr std::uint64_t kMinAlignment = 16;
constexpr std::uint64_t kMaxAlignment = 1048576;
constexpr std::uint64_t kWriterAlignment = 256;
constexpr std::uint64_t kManifestVersion = 1;
// model.yaml, checked before a tree is built (formats/yaml_prescan.h).
constexpr std::size_t kMaxYamlDepth = 32;
constexpr std::uint64_t kMaxYamlNodes = 4000000;
constexpr std::size_t kMaxYamlScalarBytes = 4096;

// `A–Z a–z 0–9 _ . : / -`
bool is_name_char(char c);

// 1–256 characters from the name set.
std::string check_name(std::string_view name);

// 1–255 characters, no '/', '\', no "..", not ".", printable ASCII.
std::string check_file_name(std::string_view name);

// Quoting and bounded lists for messages: base/text.h.
using kiln::join_bounded;
using kiln::quote;

// "<path>:<line>: " or, for line <= 0, "<path>: ".
std::string where(const std::string& path, int line);

}  // namespace kiln::rules
