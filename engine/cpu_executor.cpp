#include "engine/cpu_executor.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

#include "base/errors.h"
#include "base/memory_limit.h"

namespace kiln {

CpuWeightStore::CpuWeightStore(const TensorFile& file) : file_(file) {
  for (const TensorEntry& e : file.manifest.tensors) {
    if (e.dtype != DType::F16) continue;
    const std::uint64_t n = element_count(e.shape);
    check_host_allocation(file.manifest.path, "weight " + e.name + " as float32", n * sizeof(float));
    std::vector<float> f(n);
    halves_to_floats(file.data(e), f.size(), f.data());
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

std::shared_ptr<const Graph> CpuExecutor::graph_for(const std::vector<Shape>& input_shapes) const {
  // The graph's own shapes: no copy (an aliasing pointer that owns nothing).
  if (input_shapes == graph_.input_shapes()) return std::shared_ptr<const Graph>(std::shared_ptr<void>(), &graph_);
  const std::lock_guard<std::mutex> lock(shapes_mutex_);
  return shapes_.get(input_shapes,
                     [&] { return std::make_shared<const Graph>(graph_.at_input_shapes(input_shapes)); });
}

std::size_t CpuExecutor::cached_shapes() const {
  const std::lock_guard<std::mutex> lock(shapes_mutex_);
  return shapes_.size();
}

RunResult CpuExecutor::run(const std::vector<HostTensor>& inputs, std::int64_t batch,
                           const RunOptions& options) const {
  if (!graph_.dynamic()) return run_on(graph_, inputs, batch, options);
  const std::shared_ptr<const Graph> graph = graph_for(graph_.run_shapes(inputs));
  return run_on(*graph, inputs, batch, options);
}

RunResult CpuExecutor::run_on(const Graph& graph, const std::vector<HostTensor>& inputs, std::int64_t batch,
                              const RunOptions& options) const {
  graph.check_run_inputs(inputs, batch);
  const auto& in_ids = graph.input_tensors();
  const MemoryPlan keep_plan = options.keep_layer_outputs ? graph.plan_keeping_all() : MemoryPlan{};
  const MemoryPlan& plan = options.keep_layer_outputs ? keep_plan : graph.plan();
  std::vector<float> arena;
  // A --max-batch far beyond the machine's memory must be an error naming the size, not std::bad_alloc
  // (or, with overcommit, the OOM killer). Checked against the host memory limit first because
  // sanitizer allocators abort on huge requests instead of throwing.
  const std::uint64_t arena_floats = plan.arena_bytes / sizeof(float) + 1;
  check_host_allocation("the CPU reference path",
                        "the activation arena for max batch " + std::to_string(graph.max_batch()),
                        arena_floats * sizeof(float));
  try {
    arena.resize(static_cast<std::size_t>(arena_floats));
  } catch (const std::bad_alloc&) {
    throw Error("cannot allocate the CPU activation arena of " + std::to_string(plan.arena_bytes) +
                " bytes planned for max batch " + std::to_string(graph.max_batch()) +
                " (load the model with a smaller max batch)");
  }
  auto at = [&](int tensor) { return arena.data() + plan.offsets[tensor] / sizeof(float); };

  for (std::size_t i = 0; i < in_ids.size(); ++i) std::copy(inputs[i].data.begin(), inputs[i].data.end(), at(in_ids[i]));

  RunResult result;
  for (std::size_t l = 0; l < graph.layers().size(); ++l) {
    const Layer& layer = *graph.layers()[l];
    CpuForwardArgs args;
    for (int t : graph.layer_inputs(static_cast<int>(l))) args.inputs.push_back(at(t));
    const int out = graph.output_tensor_of(static_cast<int>(l));
    args.output = at(out);
    args.batch = batch;
    args.weights = &weights_;
    layer.forward_cpu(args);
    if (options.keep_layer_outputs) {
      const Shape s = Layer::at_batch(layer.output_shape(), batch);
      result.layers.push_back(HostTensor{layer.name(), s, std::vector<float>(at(out), at(out) + element_count(s))});
    }
  }
  for (int t : graph.output_tensors()) {
    const GraphTensor& gt = graph.tensors()[t];
    const Shape s = Layer::at_batch(gt.shape, batch);
    result.outputs.push_back(HostTensor{gt.name, s, std::vector<float>(at(t), at(t) + element_count(s))});
  }
  return result;
}

}  // namespace kiln
