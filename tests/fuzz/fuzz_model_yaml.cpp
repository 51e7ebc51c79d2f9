// fuzz_model_yaml: the fuzzer's bytes as the text of a model.yaml, parsed by kiln::parse_model
// (formats/model_spec.h) in memory; a spec it accepts is then built by Graph::build (every layer's
// attribute checks, weight binding and shape inference, then memory planning) against a fixed manifest
// of the weights the seeds use (kWeights below; tests/fuzz/make_seeds.py writes models that use them).
// Asserted: kiln returns or throws a kiln::Error (with a bounded message); an accepted spec keeps the
// reader's promises (check_model_spec) and a built graph those of Graph::build (check_graph: shapes at
// the max batch, byte counts, a valid plan). Anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"

namespace {

struct Weight {
  const char* name;
  const char* dtype;
  kiln::Shape shape;
};

// Must match SHARED_WEIGHTS in make_seeds.py.
const Weight kWeights[] = {
    {"conv.weight", "f32", {4, 3, 3, 3}},
    {"conv.bias", "f32", {4}},
    {"dw.weight", "f32", {4, 1, 3, 3}},
    {"convt.weight", "f32", {4, 2, 2, 2}},
    {"convt.bias", "f32", {2}},
    {"bn.scale", "f32", {4}},
    {"bn.shift", "f32", {4}},
    {"fc.weight", "f32", {5, 4}},
    {"fc.bias", "f32", {5}},
    {"fc2.weight", "f16", {3, 5}},
};

// The manifest of kWeights (alignment 16; no blob is read).
kiln::Manifest shared_manifest() {
  std::string lines;
  std::uint64_t end = 0;
  for (const Weight& w : kWeights) {
    const std::uint64_t offset = (end + 15) / 16 * 16;
    const std::uint64_t nbytes = kiln::element_count(w.shape) * (std::string(w.dtype) == "f16" ? 2 : 4);
    lines += std::string(w.name) + " " + w.dtype + " " + std::to_string(offset) + " " + std::to_string(nbytes) + " " +
             kiln::shape_to_string(w.shape) + "\n";
    end = offset + nbytes;
  }
  const std::string text = "kiln-manifest 1\nblob weights.bin\nblob-size " + std::to_string((end + 15) / 16 * 16) +
                           "\nalignment 16\ncrc32 00000000\ntensors " + std::to_string(std::size(kWeights)) + "\n" +
                           lines;
  return kiln::parse_manifest(text, "fuzz/weights.manifest");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kiln_fuzz::kMaxInput) return 0;
  static const kiln::Manifest manifest = shared_manifest();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const kiln::ModelSpec spec = kiln::parse_model(text, "fuzz/model.yaml");
    kiln_fuzz::check_model_spec(spec);
    const kiln::Graph graph = kiln::Graph::build(spec, manifest);
    kiln_fuzz::check_graph(graph, kiln::GraphBuildOptions{}.alignment);
    kiln_fuzz::note("graph built: " + std::to_string(graph.layers().size()) + " layers");
  } catch (const kiln::Error& e) {
    return kiln_fuzz::expected_rejection(e);
  }
  return 0;
}
