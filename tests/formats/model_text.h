// A valid model.yaml that each negative test changes in one place. Line numbers matter: layer enc.0
// starts on line 8, enc.1 on line 13, outputs are on line 16.
#pragma once

#include <string>

#include "formats/model_spec.h"
#include "test_util.h"

namespace kiln::test {

inline const std::string kModel = R"(format: kiln-model
version: 1
name: autoencoder
weights: weights.manifest
inputs:
  - {name: input, shape: [1, 3, 128, 128], dtype: f32}
layers:
  - name: enc.0
    op: conv2d
    inputs: [input]
    attributes: {out_channels: 32, kernel_size: [3, 3], padding: 1, slope: 0.5, flag: true, mode: "nearest", mix: [1, 2.5], big: -1e-4}
    weights: {weight: enc.0.weight, bias: enc.0.bias}
  - name: enc.1
    op: relu
    inputs: [enc.0]
outputs: [enc.1]
)";

// kModel with the first occurrence of `from` replaced by `to` (which must be present).
inline std::string with(const std::string& from, const std::string& to, std::string text = kModel) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the model";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

inline std::string model_error(const std::string& text) {
  return error_of([&] { parse_model(text, "m.yaml"); });
}

}  // namespace kiln::test
