// Test helper: builds one layer from structs (no YAML, no files) and runs its CPU reference.
// A LayerCase owns the spec, the manifest and the weight data; built layers point into the manifest,
// so a LayerCase is neither copied nor moved and must outlive the layers it built.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "formats/manifest.h"
#include "formats/model_spec.h"
#include "layers/layer.h"

namespace kiln::test {

class MapWeights final : public CpuWeights {
 public:
  std::map<std::string, std::vector<float>> data;
  const float* get(const TensorEntry& tensor) const override { return data.at(tensor.name).data(); }
};

class LayerCase {
 public:
  LayerCase(std::string op, std::vector<Shape> input_shapes, std::string name = "l1");
  LayerCase(const LayerCase&) = delete;
  LayerCase& operator=(const LayerCase&) = delete;

  LayerCase& attr(const std::string& key, std::int64_t v);
  LayerCase& attr(const std::string& key, int v) { return attr(key, static_cast<std::int64_t>(v)); }
  LayerCase& attr(const std::string& key, double v);
  LayerCase& attr(const std::string& key, bool v);
  // A string (a const char* would otherwise convert to bool).
  LayerCase& attr(const std::string& key, const char* v);
  LayerCase& attr(const std::string& key, std::vector<std::int64_t> v);
  LayerCase& attr(const std::string& key, AttrValue v);
  // Adds tensor "<name>.<role>" to the manifest (before build(): layers point into manifest.tensors) with `data` and binds it to `role`.
  LayerCase& weight(const std::string& role, const Shape& shape, std::vector<float> data, DType dtype = DType::F32);
  // Binds `role` to `tensor` without adding anything to the manifest.
  LayerCase& bind(const std::string& role, const std::string& tensor);

  std::unique_ptr<Layer> build();
  // The ModelError message of build(), or "<no error>".
  std::string build_error();

  // Runs `layer` at `batch` on `inputs` (each at least the batch's size); returns the output.
  std::vector<float> run(const Layer& layer, const std::vector<std::vector<float>>& inputs, std::int64_t batch = 0);

  LayerSpec spec;
  Manifest manifest;
  MapWeights weights;
  std::vector<Shape> input_shapes;

 private:
  std::map<std::string, AttrValue> attrs_;
};

std::int64_t count(const Shape& s);
std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f);

}  // namespace kiln::test
