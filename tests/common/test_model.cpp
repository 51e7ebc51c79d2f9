#include "tests/common/test_model.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
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

std::unique_ptr<TestModel> make_unet_like(const Shape& input) {
  return std::make_unique<TestModel>(
      std::vector<std::pair<std::string, Shape>>{{"x", input}},
      std::vector<std::string>{
          "{name: c1, op: conv2d, inputs: [x], attributes: {out_channels: 4, kernel_size: 3, padding: 1}, weights: "
          "{weight: w1, bias: b1}}",
          "{name: r1, op: relu, inputs: [c1]}",
          "{name: p, op: max_pool2d, inputs: [r1], attributes: {kernel_size: 2}}",
          "{name: c2, op: conv2d, inputs: [p], attributes: {out_channels: 4, kernel_size: 3, padding: 1}, weights: "
          "{weight: w2}}",
          "{name: up, op: conv_transpose2d, inputs: [c2], attributes: {out_channels: 4, kernel_size: 2, stride: 2}, "
          "weights: {weight: wu}}",
          "{name: cat, op: concat, inputs: [up, r1]}",
          "{name: out, op: conv2d, inputs: [cat], attributes: {out_channels: 2, kernel_size: 1}, weights: {weight: wo}}"},
      std::vector<std::string>{"out"},
      std::vector<TestModel::Tensor>{
          {"w1", {4, 2, 3, 3}}, {"b1", {4}}, {"w2", {4, 4, 3, 3}}, {"wu", {4, 4, 2, 2}}, {"wo", {2, 8, 1, 1}}},
      /*seed=*/7);
}

void make_dynamic(const std::string& dir, const std::vector<std::int64_t>& min_hw,
                  const std::vector<std::int64_t>& max_hw) {
  const std::filesystem::path yaml = std::filesystem::path(dir) / "model.yaml";
  std::ifstream in(yaml);
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::string out, line;
  const std::string range = ", min_hw: " + shape_to_string(min_hw) + ", max_hw: " + shape_to_string(max_hw) + "}";
  while (std::getline(text, line)) {
    // "  - {name: x, shape: [N,C,H,W], dtype: f32}": 4-D when the shape has three commas.
    const std::size_t open = line.find("shape: [");
    if (line.rfind("  - {name:", 0) == 0 && open != std::string::npos) {
      const std::size_t close = line.find(']', open);
      if (std::count(line.begin() + static_cast<std::ptrdiff_t>(open), line.begin() + static_cast<std::ptrdiff_t>(close), ',') == 3) {
        line = line.substr(0, line.rfind('}')) + range;
      }
    }
    out += line + "\n";
  }
  std::ofstream(yaml) << out;
}

std::vector<HostTensor> random_inputs_of(const Graph& graph, const std::vector<Shape>& shapes, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<HostTensor> out;
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    const GraphTensor& gt = graph.tensors()[static_cast<std::size_t>(graph.input_tensors().at(k))];
    HostTensor h{gt.name, shapes[k], {}};
    h.data.resize(element_count(h.shape));
    for (float& v : h.data) v = dist(rng);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace kiln::test
