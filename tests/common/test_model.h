// Small model folders for tests, written from a few YAML lines with random weights, and random inputs
// for them. Host only: used by the CPU (tests/engine) and the GPU (tests/gpu) suites alike.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/host_tensor.h"
#include "formats/dtype.h"

namespace kiln::test {

// A model folder under the temp dir (removed on destruction): model.yaml + weights.manifest/.bin.
class TestModel {
 public:
  struct Tensor {
    std::string name;
    Shape shape;
    float lo = -0.5f;  // weights are uniform in [lo, hi]
    float hi = 0.5f;
  };
  // `inputs`: name and shape (batch first: the max batch). `layers`: one YAML flow mapping each, e.g.
  // "{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 4, kernel_size: 3}, weights: {weight: w}}".
  // `weight_dtype` F16: the blob holds half weights (as `kiln_export --dtype f16` writes them).
  TestModel(const std::vector<std::pair<std::string, Shape>>& inputs, const std::vector<std::string>& layers,
            const std::vector<std::string>& outputs, const std::vector<Tensor>& weights, std::uint32_t seed = 1,
            DType weight_dtype = DType::F32);
  ~TestModel();
  TestModel(const TestModel&) = delete;
  TestModel& operator=(const TestModel&) = delete;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Gives every 4-D input of the model.yaml in `dir` the dynamic height × width range min_hw..max_hw
// (formats/README.md), as kiln_export --dynamic-hw writes it.
void make_dynamic(const std::string& dir, const std::vector<std::int64_t>& min_hw,
                  const std::vector<std::int64_t>& max_hw);

// A small U-Net-shaped model with input [N, 2, H, W] (`input` gives its max batch and example size):
// conv 3×3 + ReLU → 2×2 max pool → conv 3×3 → transposed conv 2×2/2 → concat with the first conv →
// conv 1×1 to 2 channels. Its height and width must be even. Weights from a fixed seed, so two
// models of different sizes hold the same weights.
std::unique_ptr<TestModel> make_unet_like(const Shape& input);

// Random inputs of the given shapes (batch first), named as `graph`'s inputs, uniform in [-1, 1].
std::vector<HostTensor> random_inputs_of(const Graph& graph, const std::vector<Shape>& shapes, std::uint32_t seed);

// Random inputs for `graph` at `batch`, uniform in [-1, 1].
std::vector<HostTensor> random_inputs(const Graph& graph, std::int64_t batch, std::uint32_t seed);

}  // namespace kiln::test
