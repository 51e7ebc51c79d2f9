// fuzz_tensor_file: the fuzzer's bytes as a tensor file pair, the kind `kiln run --input` and the golden
// files use. Byte 0 is flags (fuzz_common.h: bit 0 resize/zero-pad the blob to the declared size, bit 1
// fix the manifest's crc32); the rest is the manifest + "\n@@@@\n" + the blob (written under the name the
// manifest declares) in a private temporary folder. kiln::read_host_tensors (engine/host_tensor.h) reads
// them; the tensors are then checked against a small fixed model (kModelYaml below, written once with its
// weights at start-up) by Graph::check_run_inputs, with the batch taken from the first tensor as the CLI
// does, and, when they pass, run through the CPU reference executor.
// Asserted: kiln returns or throws a kiln::Error (with a bounded message); an accepted file keeps the
// manifest promises (check_manifest) and gives one HostTensor per entry with its name, shape and element
// count; a run returns every output at its shape. Anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/cpu_executor.h"
#include "engine/host_tensor.h"
#include "engine/model_dir.h"
#include "fuzz_common.h"

namespace {

// Two inputs (so count, order and names matter), batch 2; conv weights written at start-up.
constexpr const char* kModelYaml = R"(format: kiln-model
version: 1
name: fuzz_tensor_file
weights: weights.manifest
inputs:
  - {name: x, shape: [2, 3, 4, 4], dtype: f32}
  - {name: y, shape: [2, 3, 4, 4], dtype: f32}
layers:
  - {name: sum, op: add, inputs: [x, y]}
  - {name: act, op: relu, inputs: [sum]}
  - name: conv
    op: conv2d
    inputs: [act]
    attributes: {out_channels: 2, kernel_size: 3, padding: 1}
    weights: {weight: conv.weight, bias: conv.bias}
  - {name: pool, op: global_avg_pool2d, inputs: [conv]}
  - {name: flat, op: flatten, inputs: [pool]}
  - {name: prob, op: softmax, inputs: [flat]}
outputs: [prob, act]
)";

struct FixedModel {
  kiln_fuzz::TempDir dir{"fuzz-tensor-model"};
  std::unique_ptr<kiln::LoadedModel> model;
  std::unique_ptr<kiln::CpuExecutor> executor;

  FixedModel() {
    dir.write("model.yaml", kModelYaml);
    std::vector<float> w(2 * 3 * 3 * 3), b{0.5f, -0.25f};
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) / 7.0f - 0.5f;
    kiln::write_tensor_file(
        dir.path(), "weights",
        {{"conv.weight", kiln::DType::F32, {2, 3, 3, 3}, w.data()}, {"conv.bias", kiln::DType::F32, {2}, b.data()}});
    model = std::make_unique<kiln::LoadedModel>(kiln::load_model(dir.path()));
    executor = std::make_unique<kiln::CpuExecutor>(model->graph, model->weights);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > kiln_fuzz::kMaxInput) return 0;
  static const FixedModel fixed;
  static const kiln_fuzz::TempDir dir("fuzz-tensor");
  std::vector<std::string> parts =
      kiln_fuzz::split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 2);
  dir.clear();
  kiln_fuzz::write_tensor_pair(dir, "inputs.manifest", std::move(parts[0]), std::move(parts[1]), data[0]);
  try {
    const std::string path = dir.file("inputs.manifest");
    const std::vector<kiln::HostTensor> tensors = kiln::read_host_tensors(path);
    const kiln::Manifest m = kiln::read_manifest(path);
    kiln_fuzz::check_manifest(m);
    FUZZ_CHECK(tensors.size() == m.tensors.size(), "read " + std::to_string(tensors.size()) + " tensors for " +
                                                       std::to_string(m.tensors.size()) + " entries");
    for (std::size_t i = 0; i < tensors.size(); ++i)
      FUZZ_CHECK(tensors[i].name == m.tensors[i].name && tensors[i].shape == m.tensors[i].shape &&
                     tensors[i].data.size() == kiln::element_count(tensors[i].shape),
                 "tensor " + std::to_string(i) + " '" + tensors[i].name + "' read with the wrong name, shape or size");

    const kiln::Graph& g = fixed.model->graph;
    const std::int64_t batch = tensors.empty() || tensors[0].shape.empty() ? 1 : tensors[0].shape[0];
    g.check_run_inputs(tensors, batch);
    const kiln::RunResult r = fixed.executor->run(tensors, batch);
    FUZZ_CHECK(r.outputs.size() == 2, "run returned " + std::to_string(r.outputs.size()) + " outputs");
    FUZZ_CHECK((r.outputs[0].shape == kiln::Shape{batch, 2} && r.outputs[1].shape == kiln::Shape{batch, 3, 4, 4}),
               "outputs returned with shapes " + kiln::shape_to_string(r.outputs[0].shape) + ", " +
                   kiln::shape_to_string(r.outputs[1].shape));
    kiln_fuzz::note("ran the fixed model at batch " + std::to_string(batch));
  } catch (const kiln::Error& e) {
    return kiln_fuzz::expected_rejection(e);
  }
  return 0;
}
