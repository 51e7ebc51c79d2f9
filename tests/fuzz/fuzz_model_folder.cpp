// fuzz_model_folder: the fuzzer's bytes as a whole model folder. Byte 0 is flags (fuzz_common.h: bit 0
// resize/zero-pad the blob to the declared size, bit 1 fix the manifest's crc32, bits 2-3 the max batch
// given to the loader (0 = as written), bit 6 keep every layer's output); the rest is
// model.yaml + "\n@@@@\n" + weights.manifest + "\n@@@@\n" + the blob (written under the name the manifest
// declares), all into a private temporary folder. Then:
//   kiln::load_graph   (model.yaml + manifest: parsing, every layer's checks, shape inference, planning);
//   kiln::load_model   (the same plus the blob: size, CRC-32, zero padding, f16 widening);
//   when small (activations <= 1 MiB, about <= 4M multiply-adds), the CPU reference executor on
//   deterministic inputs at the max batch and at batch 1 (every layer's forward_cpu over the plan), and
//   for a dynamic height × width (min_hw/max_hw) at the range's smallest size as well.
// Asserted: kiln returns or throws a kiln::Error (with a bounded message); an accepted folder keeps the
// promises of check_model_spec / check_graph (fuzz_common.h); the loaded blob has the declared size and
// every tensor widens to its element count; a run returns every output (and layer) at its shape.
// Anything else (another exception, a crash, a sanitizer report, a leak, an out-of-memory) is a finding.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/cpu_executor.h"
#include "engine/model_dir.h"
#include "fuzz_common.h"
#include "layers/lrn/lrn.h"
#include "layers/pool/pool.h"

namespace {

constexpr std::uint64_t kMaxRunBytes = 1 << 20;  // activations of a graph the executor runs
constexpr double kMaxRunCost = 4e6;              // multiply-adds (or element visits) per run

// A rough count of the inner-loop steps of one forward pass at `batch`.
double run_cost(const kiln::Graph& g, std::int64_t batch) {
  double cost = 0;
  for (const auto& layer : g.layers()) {
    const double out = static_cast<double>(kiln::element_count(layer->output_shape())) /
                       static_cast<double>(g.max_batch()) * static_cast<double>(batch);
    double in = 0;
    for (const kiln::Shape& s : layer->input_shapes())
      in +=
          static_cast<double>(kiln::element_count(s)) / static_cast<double>(g.max_batch()) * static_cast<double>(batch);
    double c = in + out + layer->flops_per_sample() / 2 * static_cast<double>(batch);
    if (const auto* pool = dynamic_cast<const kiln::PoolLayer*>(layer.get()))
      c += out * static_cast<double>(pool->params().kernel[0]) * static_cast<double>(pool->params().kernel[1]);
    if (const auto* lrn = dynamic_cast<const kiln::LrnLayer*>(layer.get()))
      c += out * static_cast<double>(lrn->params().size);
    cost += c;
  }
  return cost;
}

void run_small(const kiln::LoadedModel& model, bool keep_layers) {
  const kiln::Graph& g = model.graph;
  if (g.plan().sum_bytes > kMaxRunBytes || g.plan().arena_bytes > kMaxRunBytes)
    return kiln_fuzz::note("loaded; too large to run");
  std::vector<std::int64_t> batches{g.max_batch()};
  if (g.max_batch() > 1) batches.push_back(1);
  double cost = 0;
  for (const std::int64_t b : batches) cost += run_cost(g, b);
  if (cost > kMaxRunCost) return kiln_fuzz::note("loaded; too large to run");

  const kiln::CpuExecutor executor(g, model.weights);
  for (const std::int64_t batch : batches) {
    std::vector<kiln::HostTensor> inputs;
    for (const int id : g.input_tensors()) {
      const kiln::GraphTensor& t = g.tensors()[static_cast<std::size_t>(id)];
      kiln::HostTensor h{t.name, kiln::Layer::at_batch(t.shape, batch), {}};
      h.data.resize(kiln::element_count(h.shape));
      for (std::size_t i = 0; i < h.data.size(); ++i)
        h.data[i] = static_cast<float>((static_cast<std::uint32_t>(i * 2654435761u) >> 20) & 0xff) / 32.0f - 4.0f;
      inputs.push_back(std::move(h));
    }
    kiln::RunOptions options;
    options.keep_layer_outputs = keep_layers;
    const kiln::RunResult r = executor.run(inputs, batch, options);
    FUZZ_CHECK(r.outputs.size() == g.output_tensors().size(),
               "run returned " + std::to_string(r.outputs.size()) + " outputs");
    for (std::size_t i = 0; i < r.outputs.size(); ++i) {
      const kiln::GraphTensor& t = g.tensors()[static_cast<std::size_t>(g.output_tensors()[i])];
      const kiln::Shape want = kiln::Layer::at_batch(t.shape, batch);
      FUZZ_CHECK(r.outputs[i].name == t.name && r.outputs[i].shape == want &&
                     r.outputs[i].data.size() == kiln::element_count(want),
                 "output " + std::to_string(i) + " '" + r.outputs[i].name + "' returned with shape " +
                     kiln::shape_to_string(r.outputs[i].shape));
    }
    FUZZ_CHECK(r.layers.size() == (keep_layers ? g.layers().size() : 0),
               "run returned " + std::to_string(r.layers.size()) + " layer outputs");
    kiln_fuzz::note("ran at batch " + std::to_string(batch) + (keep_layers ? ", keeping every layer" : ""));
  }
  if (!g.dynamic()) return;
  // A dynamic height × width: the range's smallest size too (a graph built for it, cached by the
  // executor); no larger than the largest, so within the run's bounds. A size a layer cannot take is a
  // ModelError, the expected answer.
  std::vector<kiln::HostTensor> inputs;
  std::vector<kiln::Shape> key;
  for (std::size_t k = 0; k < g.spec().inputs.size(); ++k) {
    const kiln::InputSpec& in = g.spec().inputs[k];
    kiln::Shape s = kiln::Layer::at_batch(g.tensors()[static_cast<std::size_t>(g.input_tensors()[k])].shape, 1);
    if (in.dynamic_hw()) {
      s[2] = in.min_hw[0];
      s[3] = in.min_hw[1];
    }
    inputs.push_back({in.name, s, std::vector<float>(kiln::element_count(s), 0.25f)});
    key.push_back(kiln::Layer::at_batch(s, g.max_batch()));
  }
  const kiln::RunResult r = executor.run(inputs, 1);
  const std::shared_ptr<const kiln::Graph> small = executor.graph_for(key);
  FUZZ_CHECK(r.outputs.size() == small->output_tensors().size(), "run at the smallest size returned too few outputs");
  for (std::size_t i = 0; i < r.outputs.size(); ++i) {
    const kiln::Shape want =
        kiln::Layer::at_batch(small->tensors()[static_cast<std::size_t>(small->output_tensors()[i])].shape, 1);
    FUZZ_CHECK(r.outputs[i].shape == want && r.outputs[i].data.size() == kiln::element_count(want),
               "output " + std::to_string(i) + " at the smallest size returned with shape " +
                   kiln::shape_to_string(r.outputs[i].shape));
  }
  kiln_fuzz::note("ran at the range's smallest size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > kiln_fuzz::kMaxInput) return 0;
  static const kiln_fuzz::TempDir dir("fuzz-model");
  const unsigned flags = data[0];
  std::vector<std::string> parts =
      kiln_fuzz::split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 3);
  dir.clear();
  dir.write("model.yaml", parts[0]);
  kiln_fuzz::write_tensor_pair(dir, "weights.manifest", std::move(parts[1]), std::move(parts[2]), flags,
                               {"model.yaml"});
  kiln::GraphBuildOptions options;
  options.max_batch = (flags >> 2) & 3;
  try {
    const kiln::Graph graph = kiln::load_graph(dir.path(), options);
    kiln_fuzz::check_model_spec(graph.spec());
    kiln_fuzz::check_graph(graph, options.alignment);

    const kiln::LoadedModel model = kiln::load_model(dir.path(), options);
    const kiln::TensorFile& w = model.weights;
    kiln_fuzz::check_manifest(w.manifest);
    FUZZ_CHECK(w.blob.size() == w.manifest.blob_size,
               "blob of " + std::to_string(w.blob.size()) + " bytes, declared " + std::to_string(w.manifest.blob_size));
    for (const kiln::TensorEntry& e : w.manifest.tensors)
      FUZZ_CHECK(w.to_float(e.name).size() == kiln::element_count(e.shape),
                 "tensor '" + e.name + "' widened to the wrong size");
    run_small(model, (flags & 64) != 0);
  } catch (const kiln::Error& e) {
    return kiln_fuzz::expected_rejection(e);
  }
  return 0;
}
