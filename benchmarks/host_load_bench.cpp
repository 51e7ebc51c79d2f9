// Host-side load costs that need no GPU: manifest and model.yaml parsing with full validation, graph
// building (shape inference, weight binding) and memory planning, for a ResNet-50-sized network
// generated in memory (53 convolutions among 122 layers, 25.5 M parameters). Runs in CI so load-time
// regressions show up in its output.
#include <benchmark/benchmark.h>

#include <sstream>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "formats/manifest.h"
#include "formats/model_spec.h"

namespace kiln {
namespace {

struct GeneratedModel {
  std::string yaml;
  std::string manifest;
};

// Builds ResNet-50 (BatchNorm folded into the convolutions, as the exporter writes it).
class ResNet50Writer {
 public:
  GeneratedModel write(int batch) {
    layers_ << "format: kiln-model\nversion: 1\nname: resnet50\nweights: weights.manifest\n"
            << "inputs:\n  - {name: input, shape: [" << batch << ", 3, 224, 224], dtype: f32}\nlayers:\n";
    std::string x = conv("conv1", "input", 3, 64, 7, 2, 3);
    x = unary("relu", "conv1.relu", x);
    layers_ << "  - {name: maxpool, op: max_pool2d, inputs: [" << x
            << "], attributes: {kernel_size: 3, stride: 2, padding: 1}}\n";
    x = "maxpool";
    int in = 64;
    const int blocks[4] = {3, 4, 6, 3};
    for (int stage = 0; stage < 4; ++stage) {
      const int width = 64 << stage;
      for (int b = 0; b < blocks[stage]; ++b) {
        const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
        const int stride = (b == 0 && stage > 0) ? 2 : 1;
        std::string y = unary("relu", p + ".relu1", conv(p + ".conv1", x, in, width, 1, 1, 0));
        y = unary("relu", p + ".relu2", conv(p + ".conv2", y, width, width, 3, stride, 1));
        y = conv(p + ".conv3", y, width, 4 * width, 1, 1, 0);
        const std::string skip = b == 0 ? conv(p + ".downsample", x, in, 4 * width, 1, stride, 0) : x;
        layers_ << "  - {name: " << p << ".add, op: add, inputs: [" << y << ", " << skip << "]}\n";
        x = unary("relu", p + ".out", p + ".add");
        in = 4 * width;
      }
    }
    layers_ << "  - {name: avgpool, op: global_avg_pool2d, inputs: [" << x << "]}\n"
            << "  - {name: flatten, op: flatten, inputs: [avgpool]}\n"
            << "  - {name: fc, op: linear, inputs: [flatten], attributes: {out_features: 1000},"
            << " weights: {weight: fc.weight, bias: fc.bias}}\noutputs: [fc]\n";
    tensor("fc.weight", {1000, 2048});
    tensor("fc.bias", {1000});
    std::ostringstream m;
    m << "kiln-manifest 1\nblob weights.bin\nblob-size " << offset_ << "\nalignment 256\ncrc32 00000000\ntensors "
      << count_ << "\n"
      << tensors_.str();
    return {layers_.str(), m.str()};
  }

 private:
  std::string conv(const std::string& name, const std::string& in, int cin, int cout, int k, int s, int p) {
    layers_ << "  - {name: " << name << ", op: conv2d, inputs: [" << in << "], attributes: {out_channels: " << cout
            << ", kernel_size: " << k << ", stride: " << s << ", padding: " << p << "}, weights: {weight: " << name
            << ".weight, bias: " << name << ".bias}}\n";
    tensor(name + ".weight", {cout, cin, k, k});
    tensor(name + ".bias", {cout});
    return name;
  }
  std::string unary(const std::string& op, const std::string& name, const std::string& in) {
    layers_ << "  - {name: " << name << ", op: " << op << ", inputs: [" << in << "]}\n";
    return name;
  }
  void tensor(const std::string& name, const std::vector<long long>& shape) {
    long long n = 1;
    std::string dims;
    for (long long d : shape) {
      n *= d;
      dims += (dims.empty() ? "" : ",") + std::to_string(d);
    }
    tensors_ << name << " f32 " << offset_ << " " << 4 * n << " [" << dims << "]\n";
    offset_ = (offset_ + 4 * n + 255) / 256 * 256;
    ++count_;
  }
  std::ostringstream layers_, tensors_;
  long long offset_ = 0;
  int count_ = 0;
};

const GeneratedModel& resnet50() {
  static const GeneratedModel m = ResNet50Writer().write(32);
  return m;
}

void BM_ParseManifest(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parse_manifest(resnet50().manifest, "weights.manifest"));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * resnet50().manifest.size()));
}

void BM_ParseModelYaml(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parse_model(resnet50().yaml, "model.yaml"));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * resnet50().yaml.size()));
}

void BM_BuildGraphAndPlan(benchmark::State& state) {
  const ModelSpec spec = parse_model(resnet50().yaml, "model.yaml");
  const Manifest manifest = parse_manifest(resnet50().manifest, "weights.manifest");
  for (auto _ : state) benchmark::DoNotOptimize(Graph::build(spec, manifest));
  state.counters["layers"] = static_cast<double>(spec.layers.size());
}

void BM_PlanMemoryOnly(benchmark::State& state) {
  const Graph g = Graph::build(parse_model(resnet50().yaml, "model.yaml"),
                               parse_manifest(resnet50().manifest, "weights.manifest"));
  const int steps = static_cast<int>(g.layers().size());
  for (auto _ : state) benchmark::DoNotOptimize(plan_memory(g.plan_tensors(), steps));
  state.counters["arena_MiB"] = static_cast<double>(g.plan().arena_bytes) / (1 << 20);
  state.counters["sum_MiB"] = static_cast<double>(g.plan().sum_bytes) / (1 << 20);
}

BENCHMARK(BM_ParseManifest)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseModelYaml)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BuildGraphAndPlan)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PlanMemoryOnly)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kiln

BENCHMARK_MAIN();
