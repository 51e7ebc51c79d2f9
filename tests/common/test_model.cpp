#include "tests/common/test_model.h"

#include <unistd.h>

#include <fstream>
#include <random>
#include <system_error>

#include "formats/manifest.h"

namespace kiln::test {

TestModel::TestModel(const std::vector<std::pair<std::string, Shape>>& inputs, const std::vector<std::string>& layers,
                     const std::vector<std::string>& outputs, const std::vector<Tensor>& weights, std::uint32_t seed,
                     DType weight_dtype) {
  static int counter = 0;
  dir_ = (std::filesystem::temp_directory_path() /
          ("kiln-test-model-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
             .string();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);

  std::mt19937 rng(seed);
  std::vector<std::vector<float>> data;
  std::vector<TensorToWrite> tensors;
  for (const Tensor& t : weights) {
    std::uniform_real_distribution<float> dist(t.lo, t.hi);
    data.emplace_back(element_count(t.shape));
    for (float& v : data.back()) v = dist(rng);
  }
  std::vector<std::vector<std::uint16_t>> halves;
  for (const std::vector<float>& d : data) {
    halves.emplace_back();
    for (float v : d) halves.back().push_back(float_to_half(v));
  }
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const void* bytes = weight_dtype == DType::F16 ? static_cast<const void*>(halves[i].data()) : data[i].data();
    tensors.push_back({weights[i].name, weight_dtype, weights[i].shape, bytes});
  }
  write_tensor_file(dir_, "weights", tensors);

  std::ofstream yaml(std::filesystem::path(dir_) / "model.yaml");
  yaml << "format: kiln-model\nversion: 1\nweights: weights.manifest\ninputs:\n";
  for (const auto& [name, shape] : inputs) yaml << "  - {name: " << name << ", shape: " << shape_to_string(shape) << ", dtype: f32}\n";
  yaml << "layers:\n";
  for (const std::string& l : layers) yaml << "  - " << l << "\n";
  yaml << "outputs: [";
  for (std::size_t i = 0; i < outputs.size(); ++i) yaml << (i ? ", " : "") << outputs[i];
  yaml << "]\n";
}

TestModel::~TestModel() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<HostTensor> random_inputs(const Graph& graph, std::int64_t batch, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<HostTensor> out;
  for (int t : graph.input_tensors()) {
    const GraphTensor& gt = graph.tensors()[static_cast<std::size_t>(t)];
    HostTensor h{gt.name, Layer::at_batch(gt.shape, batch), {}};
    h.data.resize(element_count(h.shape));
    for (float& v : h.data) v = dist(rng);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace kiln::test
