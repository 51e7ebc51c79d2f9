#include "engine/runner.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "engine/cpu_executor.h"
#include "base/errors.h"
#include "base/text.h"
#include "engine/model_dir.h"

namespace kiln {

namespace {

class CpuRunner : public ModelRunner {
 public:
  explicit CpuRunner(const RunnerOptions& options)
      : model_(load_model(options.model, GraphBuildOptions{options.max_batch, 256, {}})),
        executor_(model_.graph, model_.weights) {}
  const Graph& graph() const override { return model_.graph; }
  std::string device_description() const override { return "cpu (reference path, fp32)"; }
  RunResult run(const std::vector<HostTensor>& inputs, std::int64_t batch, const RunOptions& options) override {
    return executor_.run(inputs, batch, options);
  }

 private:
  LoadedModel model_;
  CpuExecutor executor_;
};

std::string names_of(const std::vector<HostTensor>& tensors) {
  std::string have;
  for (const HostTensor& t : tensors) have += (have.empty() ? "" : ", ") + t.name;
  return have.empty() ? std::string("nothing") : have;
}

// A tensor of another rank than the model input (an image without its batch dimension, [3,32,32] for
// [N,3,32,32]) would otherwise read as a batch of its first dimension.
void check_rank(const std::string& source, const std::string& name, const Shape& given, const Shape& model) {
  if (given.size() == model.size()) return;
  std::string want = "[N";
  for (std::size_t d = 1; d < model.size(); ++d) want += "," + std::to_string(model[d]);
  throw UsageError(source + ": input '" + name + "' has rank " + std::to_string(given.size()) + " (" +
                   shape_to_string(given) + "); the model takes rank " + std::to_string(model.size()) + " " + want +
                   "] with the batch first");
}

}  // namespace

std::int64_t input_batch(const std::string& model, const std::vector<HostTensor>& tensors, const std::string& source) {
  const ModelSpec spec = read_model(resolve_model_yaml(model));
  const std::string& name = spec.inputs.at(0).name;
  auto it = std::find_if(tensors.begin(), tensors.end(), [&](const HostTensor& t) { return t.name == name; });
  if (it == tensors.end())
    throw UsageError(source + ": no tensor named '" + name + "' for the model input of that name (it holds: " +
                     names_of(tensors) + ")");
  if (it->shape.empty())
    throw UsageError(source + ": tensor '" + name + "' is a scalar; the model input needs shape " +
                     shape_to_string(spec.inputs[0].shape) + " with the batch first");
  check_rank(source, name, it->shape, spec.inputs[0].shape);
  return it->shape[0];
}

std::vector<HostTensor> match_inputs(const Graph& graph, std::vector<HostTensor> tensors, const std::string& source,
                                     bool allow_extra) {
  // One pass over the file's tensors (it may hold far more than the model has inputs): the first tensor
  // named like each model input. Keyed by the graph's names, which stay put while tensors are moved out.
  const std::vector<int>& ids = graph.input_tensors();
  std::unordered_map<std::string_view, std::size_t> input_of;  // model input name -> its position in ids
  for (std::size_t k = 0; k < ids.size(); ++k) input_of.emplace(graph.tensors()[ids[k]].name, k);
  std::vector<std::size_t> match(ids.size(), tensors.size());  // tensors.size(): none
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto k = input_of.find(tensors[i].name);
    if (k != input_of.end() && match[k->second] == tensors.size()) match[k->second] = i;
  }
  // A tensor the model does not take is usually a mix-up of files (or of input names): say so.
  std::vector<std::string> extra;
  {
    std::vector<bool> used(tensors.size(), false);
    for (std::size_t m : match)
      if (m < tensors.size()) used[m] = true;
    for (std::size_t i = 0; i < tensors.size(); ++i)
      if (!used[i]) extra.push_back(tensors[i].name);
  }
  if (!extra.empty()) {
    const std::string what = source + ": " + std::to_string(extra.size()) + " tensor(s) that are not model inputs (" +
                             join_bounded(extra, true) + ")";
    if (!allow_extra) throw UsageError(what + "; pass --allow-extra-inputs to ignore them");
    std::fprintf(stderr, "warning: %s, ignored\n", what.c_str());
  }
  std::vector<HostTensor> ordered;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const int id = ids[k];
    const std::string& name = graph.tensors()[id].name;
    if (match[k] == tensors.size())
      throw UsageError(source + ": no tensor named '" + name + "' for the model input of that name (it holds: " +
                       names_of(tensors) + ")");
    HostTensor* const it = &tensors[match[k]];
    check_rank(source, name, it->shape, graph.tensors()[id].shape);
    const std::int64_t batch = ordered.empty() ? (it->shape.empty() ? 1 : it->shape[0]) : ordered[0].shape[0];
    // The model's shape, or for a dynamic input any height × width in its range (Note [input sizes] in
    // engine/graph.cpp); a fixed input of another size is told how to export for other sizes.
    const std::string problem = graph.input_shape_problem(k, it->shape);
    if (!problem.empty()) throw UsageError(source + ": " + problem);
    if (it->shape[0] != batch)
      throw UsageError(source + ": tensor '" + name + "' has batch " + std::to_string(it->shape[0]) +
                       ", the first input's is " + std::to_string(batch) + " (all inputs share one batch)");
    ordered.push_back(std::move(*it));
  }
  return ordered;
}

std::unique_ptr<ModelRunner> make_runner(const RunnerOptions& options) {
  if (options.device == "cpu") return std::make_unique<CpuRunner>(options);
  std::string why_not;
  const bool gpu = gpu_available(&why_not);
  if (options.device == "gpu") {
    if (!gpu) throw UsageError("--device gpu: no usable GPU: " + why_not);
    return make_gpu_runner(options);
  }
  if (options.device != "auto") throw UsageError("--device: expected cpu, gpu or auto, got '" + options.device + "'");
  return gpu ? make_gpu_runner(options) : std::make_unique<CpuRunner>(options);
}

}  // namespace kiln
