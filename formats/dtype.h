// Element types of kiln tensors. Spelled in files as `f32` / `f16` (formats/README.md).
#pragma once

#include "base/api.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln {

enum class DType { F32, F16 };

// Bytes per element.
constexpr std::size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 2; }

// The file spelling: "f32", "f16".
KILN_API const char* dtype_name(DType t);

// Parses a file spelling; nullopt when unknown.
std::optional<DType> parse_dtype(std::string_view s);

// IEEE binary16 <-> binary32, round-to-nearest-even, with infinities, NaN and subnormals.
float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);

// `count` little-endian halves at `src` (any alignment) as floats into `dst`: the one host loop that
// widens f16 tensors (weights for the CPU path and the GPU's Fp16 forms, golden and input files).
void halves_to_floats(const void* src, std::size_t count, float* dst);

}  // namespace kiln
