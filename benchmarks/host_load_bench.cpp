// Host-side load costs that need no GPU: manifest and model.yaml parsing with full validation, graph
// building (shape inference, weight binding) and memory planning, for a ResNet-50-sized network
// generated in memory (53 convolutions among 122 layers, 25.5 M parameters). Runs in CI so load-time
// regressions show up in its output.
//
// Also: name lookups at scale (formats/README.md allows 10^6 tensors per manifest): parsing a manifest of
// 10^6 tiny tensors and looking every one up by name, and read_host_tensors of a tensor file of 3*10^5
// tensors. Both were quadratic while lookups by name were linear scans.
//
// And the blob checksum every load computes (BM_Crc32, bytes per second over 64 MiB).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/host_tensor.h"
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

// A valid manifest of `n` one-element f32 tensors (alignment 16, so tensor i is at offset 16 i), with
// names shaped like real ones ("stage12.block345.conv.weight": longer than std::string's inline buffer).
struct ManyTensors {
  std::string text;
  std::vector<std::string> names;  // in file order
};

std::string many_name(std::size_t i) {
  return "stage" + std::to_string(i / 1000) + ".block" + std::to_string(i % 1000) + ".conv.weight";
}

const ManyTensors& many_tensors(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<ManyTensors>> cache;  // built once per size: setup stays cheap
  std::unique_ptr<ManyTensors>& m = cache[n];
  if (!m) {
    m = std::make_unique<ManyTensors>();
    m->names.reserve(n);
    std::string body;
    for (std::size_t i = 0; i < n; ++i) {
      m->names.push_back(many_name(i));
      body += m->names.back() + " f32 " + std::to_string(16 * i) + " 4 [1]\n";
    }
    m->text = "kiln-manifest 1\nblob weights.bin\nblob-size " + std::to_string(16 * n) +
              "\nalignment 16\ncrc32 00000000\ntensors " + std::to_string(n) + "\n" + body;
  }
  return *m;
}

// Looks up every name of `m` in `manifest` in a scattered order (7919 is prime, so i -> 7919 i mod n
// visits every index once); returns false on a wrong answer.
bool find_every_name(const Manifest& manifest, const ManyTensors& m, std::uint64_t& sum) {
  const std::size_t n = m.names.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = static_cast<std::size_t>((std::uint64_t{k} * 7919) % n);
    const TensorEntry* e = manifest.find(m.names[i]);
    if (e == nullptr || e->offset != 16 * i) return false;
    sum += e->offset;
  }
  return true;
}

// parse_manifest (with full validation) of n tensor lines, then a find() of every name.
void BM_ParseAndFindEveryTensor(benchmark::State& state) {
  const ManyTensors& m = many_tensors(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const Manifest manifest = parse_manifest(m.text, "weights.manifest");
    std::uint64_t sum = 0;
    if (!find_every_name(manifest, m, sum)) state.SkipWithError("find returned a wrong entry");
    benchmark::DoNotOptimize(sum);
  }
  state.counters["tensors"] = static_cast<double>(state.range(0));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * m.text.size()));
}

// find() of every name only (the manifest parsed once, outside the timing).
void BM_FindEveryTensor(benchmark::State& state) {
  const ManyTensors& m = many_tensors(static_cast<std::size_t>(state.range(0)));
  const Manifest manifest = parse_manifest(m.text, "weights.manifest");
  for (auto _ : state) {
    std::uint64_t sum = 0;
    if (!find_every_name(manifest, m, sum)) state.SkipWithError("find returned a wrong entry");
    benchmark::DoNotOptimize(sum);
  }
  state.counters["tensors"] = static_cast<double>(state.range(0));
  state.counters["time_per_find"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// A tensor file (manifest + blob, as write_host_tensors writes `kiln run` outputs) of n one-element
// tensors in a temporary folder, written once and removed at exit.
class HostTensorFile {
 public:
  explicit HostTensorFile(std::size_t n)
      : dir_(std::filesystem::temp_directory_path() /
             ("kiln-host-load-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::vector<HostTensor> tensors(n);
    for (std::size_t i = 0; i < n; ++i) tensors[i] = HostTensor{many_name(i), Shape{1}, {static_cast<float>(i)}};
    write_host_tensors(path(), tensors);
  }
  ~HostTensorFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  HostTensorFile(const HostTensorFile&) = delete;
  HostTensorFile& operator=(const HostTensorFile&) = delete;
  std::string path() const { return (dir_ / "tensors.manifest").string(); }

 private:
  std::filesystem::path dir_;
};

void BM_ReadHostTensors(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  static std::map<std::size_t, std::unique_ptr<HostTensorFile>> files;
  std::unique_ptr<HostTensorFile>& file = files[n];
  if (!file) file = std::make_unique<HostTensorFile>(n);
  for (auto _ : state) {
    const std::vector<HostTensor> tensors = read_host_tensors(file->path());
    if (tensors.size() != n || tensors.back().name != many_name(n - 1) ||
        tensors.back().data != std::vector<float>{static_cast<float>(n - 1)})
      state.SkipWithError("read_host_tensors returned wrong tensors");
    benchmark::DoNotOptimize(tensors.data());
  }
  state.counters["tensors"] = static_cast<double>(n);
}

void BM_Crc32(benchmark::State& state) {
  std::vector<unsigned char> bytes(std::size_t{64} << 20);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>((i * 2654435761u) >> 13);
  for (auto _ : state) benchmark::DoNotOptimize(crc32_update(0, bytes.data(), bytes.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes.size()));
}

BENCHMARK(BM_ParseManifest)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseModelYaml)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BuildGraphAndPlan)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PlanMemoryOnly)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseAndFindEveryTensor)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FindEveryTensor)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadHostTensors)->Arg(300000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Crc32)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kiln

BENCHMARK_MAIN();
