#include "engine/cpu_executor.h"

#include <algorithm>
#include <cstring>

#include "engine/errors.h"

namespace kiln {

CpuWeightStore::CpuWeightStore(const TensorFile& file) : file_(file) {
  for (const TensorEntry& e : file.manifest.tensors) {
    if (e.dtype != DType::F16) continue;
    const std::uint64_t n = element_count(e.shape);
    std::vector<float> f(n);
    const std::uint8_t* src = file.data(e);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      f[i] = half_to_float(h);
    }
    converted_.emplace(e.offset, std::move(f));
  }
}

const float* CpuWeightStore::get(const TensorEntry& tensor) const {
  if (tensor.dtype == DType::F16) return converted_.at(tensor.offset).data();
  // Offsets are multiples of the manifest alignment (≥ 16) and the blob buffer comes from operator
  // new, so the float pointer is aligned.
  return reinterpret_cast<const float*>(file_.data(tensor));
}

CpuExecutor::CpuExecutor(const Graph& graph, const TensorFile& weights) : graph_(graph), weights_(weights) {}

RunResult CpuExecutor::run(const std::vector<HostTensor>& inputs, std::int64_t batch,
                              const RunOptions& options) const {
  if (batch < 1 || batch > graph_.max_batch()) {
    throw UsageError("batch " + std::to_string(batch) + " is outside 1.." + std::to_string(graph_.max_batch()) +
                     " (the max batch this model was loaded with)");
  }
  const auto& in_ids = graph_.input_tensors();
  if (inputs.size() != in_ids.size()) {
    throw UsageError("the model takes " + std::to_string(in_ids.size()) + " input(s), got " +
                     std::to_string(inputs.size()));
  }
  const MemoryPlan keep_plan = options.keep_layer_outputs ? graph_.plan_keeping_all() : MemoryPlan{};
  const MemoryPlan& plan = options.keep_layer_outputs ? keep_plan : graph_.plan();
  std::vector<float> arena(plan.arena_bytes / sizeof(float) + 1);
  auto at = [&](int tensor) { return arena.data() + plan.offsets[tensor] / sizeof(float); };

  for (std::size_t i = 0; i < in_ids.size(); ++i) {
    const GraphTensor& t = graph_.tensors()[in_ids[i]];
    const Shape want = Layer::at_batch(t.shape, batch);
    const HostTensor& given = inputs[i];
    if (!given.name.empty() && given.name != t.name) {
      throw UsageError("input " + std::to_string(i) + " is named '" + given.name + "', the model expects '" + t.name + "'");
    }
    if (given.data.size() != element_count(want)) {
      throw UsageError("input '" + t.name + "' has " + std::to_string(given.data.size()) + " elements, expected " +
                       shape_to_string(want) + " = " + std::to_string(element_count(want)));
    }
    std::copy(given.data.begin(), given.data.end(), at(in_ids[i]));
  }

  RunResult result;
  for (std::size_t l = 0; l < graph_.layers().size(); ++l) {
    const Layer& layer = *graph_.layers()[l];
    CpuForwardArgs args;
    for (int t : graph_.layer_inputs(static_cast<int>(l))) args.inputs.push_back(at(t));
    const int out = graph_.output_tensor_of(static_cast<int>(l));
    args.output = at(out);
    args.batch = batch;
    args.weights = &weights_;
    layer.forward_cpu(args);
    if (options.keep_layer_outputs) {
      const Shape s = Layer::at_batch(layer.output_shape(), batch);
      result.layers.push_back(HostTensor{layer.name(), s, std::vector<float>(at(out), at(out) + element_count(s))});
    }
  }
  for (int t : graph_.output_tensors()) {
    const GraphTensor& gt = graph_.tensors()[t];
    const Shape s = Layer::at_batch(gt.shape, batch);
    result.outputs.push_back(HostTensor{gt.name, s, std::vector<float>(at(t), at(t) + element_count(s))});
  }
  return result;
}

}  // namespace kiln
