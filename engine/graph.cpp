#include "engine/graph.h"

#include <algorithm>
#include <map>
#include <optional>

#include "base/errors.h"
#include "engine/host_tensor.h"
#include "base/checked_math.h"
#include "layers/registry.h"

namespace kiln {

namespace {

std::string where(const ModelSpec& spec, int line) { return spec.path + ":" + std::to_string(line) + ": "; }

// `what` names the tensor ("model.yaml:5: input 'x'"), so an overflow points at the line that caused it.
std::uint64_t activation_bytes(const Shape& shape, const std::string& what) {
  std::optional<std::uint64_t> bytes = sizeof(float);
  for (std::int64_t d : shape) {
    if (d < 0) throw ModelError(what + ": shape " + shape_to_string(shape) + " has a negative dimension");
    if (bytes) bytes = checked_mul(*bytes, static_cast<std::uint64_t>(d));
  }
  if (!bytes) throw ModelError(what + ": shape " + shape_to_string(shape) + " overflows 64-bit byte counts");
  return *bytes;
}

// Note [input sizes]
// An input's dimensions are fixed at export, but for its batch (up to the max batch given at load) and,
// where model.yaml gives the input a `min_hw`/`max_hw` range, its height and width. A graph is built
// for one set of input shapes: by default the largest the model allows, which is the graph engines
// plan their memory with (every tensor of a smaller input is no larger: the ops kiln has all give
// outputs that grow with their inputs), and on demand for the shapes of a run (at_input_shapes), which
// the backends cache per shape.
std::string hw_text(std::int64_t h, std::int64_t w) { return std::to_string(h) + "×" + std::to_string(w); }

// "[N,3,H,W] with 16 <= H <= 512 and 16 <= W <= 512", "[N,3,32,32]": what input `in` takes.
std::string accepted_shape(const InputSpec& in) {
  std::string s = "[N";
  for (std::size_t d = 1; d < in.shape.size(); ++d) {
    s += ",";
    s += in.dynamic_hw() && d >= 2 ? (d == 2 ? "H" : "W") : std::to_string(in.shape[d]);
  }
  s += "]";
  if (in.dynamic_hw()) {
    s += " with " + std::to_string(in.min_hw[0]) + " <= H <= " + std::to_string(in.max_hw[0]) + " and " +
         std::to_string(in.min_hw[1]) + " <= W <= " + std::to_string(in.max_hw[1]);
  }
  return s;
}

// "" when `shape` (any batch) fits input `in`, else why not.
std::string shape_problem(const ModelSpec& spec, const InputSpec& in, const Shape& shape) {
  bool fits = shape.size() == in.shape.size() && !shape.empty() && shape[0] >= 1;
  for (std::size_t d = 1; fits && d < shape.size(); ++d) {
    if (in.dynamic_hw() && d >= 2) {
      fits = shape[d] >= in.min_hw[d - 2] && shape[d] <= in.max_hw[d - 2];
    } else {
      fits = shape[d] == in.shape[d];
    }
  }
  if (fits) return "";
  std::string why = "input '" + in.name + "' has shape " + shape_to_string(shape) + "; the model takes " +
                    accepted_shape(in) + " (" + where(spec, in.line);
  // Only the height or width differs from what the model takes (rank, batch and channels fit).
  const bool only_hw = shape.size() == 4 && in.shape.size() == 4 && shape[0] >= 1 && shape[1] == in.shape[1];
  if (in.dynamic_hw() && only_hw) {
    why += "its height × width range, given at export";
  } else if (in.dynamic_hw()) {
    why += "the shape it was exported with; only its height × width may vary";
  } else if (only_hw) {
    why += "its size " + hw_text(in.shape[2], in.shape[3]) +
           " is fixed: export with --dynamic-hw MINxMIN:MAXxMAX for other sizes";
  } else {
    why += "the shape it was exported with";
  }
  return why + ")";
}

}  // namespace

bool Graph::dynamic() const {
  return std::any_of(spec_.inputs.begin(), spec_.inputs.end(), [](const InputSpec& in) { return in.dynamic_hw(); });
}

std::vector<Shape> Graph::input_shapes() const {
  std::vector<Shape> out;
  for (int t : inputs_) out.push_back(tensors_[static_cast<std::size_t>(t)].shape);
  return out;
}

std::string Graph::input_shape_problem(std::size_t input, const Shape& shape) const {
  return shape_problem(spec_, spec_.inputs.at(input), shape);
}

std::vector<Shape> Graph::run_shapes(const std::vector<HostTensor>& inputs) const {
  if (inputs.size() != inputs_.size()) {
    throw UsageError("the model takes " + std::to_string(inputs_.size()) + " input(s), got " +
                     std::to_string(inputs.size()));
  }
  std::vector<Shape> out;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Shape& own = tensors_[static_cast<std::size_t>(inputs_[i])].shape;
    if (inputs[i].shape.empty()) {
      out.push_back(own);
      continue;
    }
    const std::string problem = input_shape_problem(i, inputs[i].shape);
    if (!problem.empty()) throw UsageError(problem);
    out.push_back(Layer::at_batch(inputs[i].shape, max_batch_));
  }
  return out;
}

Graph Graph::at_input_shapes(const std::vector<Shape>& shapes) const {
  GraphBuildOptions options;
  options.max_batch = max_batch_;
  options.alignment = alignment_;
  options.input_shapes = shapes;
  try {
    return build(spec_, manifest_, options);
  } catch (const ModelError& e) {
    // The layer that cannot take this size names itself; say which size it was.
    std::string sizes;
    for (const Shape& s : shapes) sizes += (sizes.empty() ? "" : ", ") + shape_to_string(s);
    throw ModelError("at input shape " + sizes + ": " + e.what());
  }
}

int Graph::tensor_index(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? -1 : it->second;
}

Graph Graph::build(const ModelSpec& spec, const Manifest& manifest, const GraphBuildOptions& options) {
  Graph g;
  g.spec_ = spec;
  g.manifest_ = manifest;  // layers point into this copy; a moved Graph keeps the vector's buffer
  if (g.spec_.inputs.empty()) throw ModelError(spec.path + ": the model has no inputs");

  const std::int64_t written_batch = g.spec_.inputs.front().shape.at(0);
  for (const InputSpec& in : g.spec_.inputs) {
    if (in.shape.at(0) != written_batch) {
      throw ModelError(where(spec, in.line) + "input '" + in.name + "': batch " + std::to_string(in.shape[0]) +
                       " differs from the first input's batch " + std::to_string(written_batch) +
                       " (all inputs share one batch dimension)");
    }
  }
  if (options.max_batch < 0) throw UsageError("max batch must be positive, got " + std::to_string(options.max_batch));
  g.max_batch_ = options.max_batch > 0 ? options.max_batch : written_batch;
  g.alignment_ = options.alignment;
  if (!options.input_shapes.empty() && options.input_shapes.size() != g.spec_.inputs.size()) {
    throw UsageError("the model takes " + std::to_string(g.spec_.inputs.size()) + " input(s), " +
                     std::to_string(options.input_shapes.size()) + " input shape(s) given");
  }

  std::unordered_map<std::string, int>& index = g.tensor_index_;
  index.reserve(g.spec_.inputs.size() + g.spec_.layers.size());
  for (std::size_t k = 0; k < g.spec_.inputs.size(); ++k) {
    const InputSpec& in = g.spec_.inputs[k];
    Shape shape = in.shape;
    if (in.dynamic_hw()) {
      shape[2] = in.max_hw[0];
      shape[3] = in.max_hw[1];
    }
    if (!options.input_shapes.empty()) {
      shape = options.input_shapes[k];
      const std::string problem = shape_problem(spec, in, Layer::at_batch(shape, written_batch));
      if (!problem.empty()) throw UsageError(problem);
    }
    GraphTensor t;
    t.name = in.name;
    t.shape = Layer::at_batch(shape, g.max_batch_);
    t.bytes = activation_bytes(t.shape, where(spec, in.line) + "input '" + in.name + "'" +
                                           (g.max_batch_ != written_batch
                                                ? " at max batch " + std::to_string(g.max_batch_)
                                                : std::string()));
    index[t.name] = static_cast<int>(g.tensors_.size());
    g.inputs_.push_back(static_cast<int>(g.tensors_.size()));
    g.tensors_.push_back(std::move(t));
  }

  for (const LayerSpec& ls : g.spec_.layers) {
    const int layer_index = static_cast<int>(g.layers_.size());
    std::vector<int> ins;
    std::vector<Shape> in_shapes;
    for (const std::string& name : ls.inputs) {
      auto it = index.find(name);
      if (it == index.end()) {
        throw ModelError(ls.origin.describe() + ": input '" + name + "' is not defined before this layer");
      }
      ins.push_back(it->second);
      in_shapes.push_back(g.tensors_[it->second].shape);
    }
    LayerBuildContext ctx(ls, in_shapes, g.manifest_);
    std::unique_ptr<Layer> layer;
    try {
      layer = build_layer(ctx);
    } catch (const ModelError& e) {
      // The default build of a dynamic model is at the range's largest size: a layer that cannot take it
      // is a range the export should not have allowed.
      if (!options.input_shapes.empty() || !g.dynamic()) throw;
      std::string sizes;
      for (int t : g.inputs_) sizes += (sizes.empty() ? "" : ", ") + shape_to_string(g.tensors_[static_cast<std::size_t>(t)].shape);
      throw ModelError("at the range's largest input shape " + sizes + " (max_hw, which the memory is planned for): " +
                       e.what() + "; export with a max_hw this layer can take");
    }
    if (layer->output_shape().empty() || layer->output_shape()[0] != g.max_batch_) {
      throw ModelError(ls.origin.describe() + ": output shape " + shape_to_string(layer->output_shape()) +
                       " does not keep the batch dimension " + std::to_string(g.max_batch_));
    }
    for (int t : ins) g.tensors_[t].consumers.push_back(layer_index);

    GraphTensor out;
    out.name = ls.name();
    out.shape = layer->output_shape();
    out.bytes = activation_bytes(out.shape, ls.origin.describe() + ": output");
    out.producer = layer_index;
    index[out.name] = static_cast<int>(g.tensors_.size());
    g.tensors_.push_back(std::move(out));
    g.layer_inputs_.push_back(std::move(ins));
    g.layers_.push_back(std::move(layer));
  }

  for (const std::string& name : g.spec_.outputs) {
    auto it = index.find(name);
    if (it == index.end()) {
      throw ModelError(where(spec, g.spec_.output_lines[name]) + "output '" + name + "' is not a layer of the model");
    }
    if (g.tensors_[it->second].producer < 0) {
      throw ModelError(where(spec, g.spec_.output_lines[name]) + "output '" + name +
                       "' is a model input; outputs must be layer results");
    }
    g.tensors_[it->second].is_output = true;
    g.outputs_.push_back(it->second);
  }

  const int steps = static_cast<int>(g.layers_.size());
  for (std::size_t i = 0; i < g.tensors_.size(); ++i) {
    const GraphTensor& t = g.tensors_[i];
    PlanTensor p;
    p.bytes = t.bytes;
    p.first_step = t.producer;
    p.last_step = t.is_output ? steps : (t.consumers.empty() ? std::max(t.producer, 0) : t.consumers.back());
    if (t.producer >= 0) {
      const Layer& producer = *g.layers_[t.producer];
      const int first_input = g.layer_inputs_[t.producer].empty() ? -1 : g.layer_inputs_[t.producer][0];
      if (producer.is_view()) p.alias_of = first_input;
      else if (producer.can_run_in_place()) p.in_place_of = first_input;
    }
    g.plan_tensors_.push_back(p);
  }
  try {
    g.plan_ = plan_memory(g.plan_tensors_, steps, options.alignment);
  } catch (const PlanTensorError& e) {
    throw ModelError(g.describe_tensor(static_cast<int>(e.tensor())) + ": cannot plan its memory: " + e.problem() +
                     " (at max batch " + std::to_string(g.max_batch_) + ")");
  }
  return g;
}

std::string Graph::describe_tensor(int index) const {
  const GraphTensor& t = tensors_.at(static_cast<std::size_t>(index));
  if (t.producer >= 0) return layers_[static_cast<std::size_t>(t.producer)]->origin().describe() + ": its output";
  return spec_.path + ": input '" + t.name + "'";
}

void Graph::check_run_inputs(const std::vector<HostTensor>& inputs, std::int64_t batch) const {
  if (batch < 1 || batch > max_batch_) {
    throw UsageError("batch " + std::to_string(batch) + " is outside 1.." + std::to_string(max_batch_) +
                     " (the max batch this model was loaded with)");
  }
  if (inputs.size() != inputs_.size()) {
    throw UsageError("the model takes " + std::to_string(inputs_.size()) + " input(s), got " +
                     std::to_string(inputs.size()));
  }
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const GraphTensor& t = tensors_[static_cast<std::size_t>(inputs_[i])];
    const Shape want = Layer::at_batch(t.shape, batch);
    const HostTensor& given = inputs[i];
    if (!given.name.empty() && given.name != t.name) {
      throw UsageError("input " + std::to_string(i) + " is named '" + given.name + "', the model expects '" + t.name + "'");
    }
    if (given.data.size() != element_count(want)) {
      throw UsageError("input '" + t.name + "' has " + std::to_string(given.data.size()) + " elements, expected " +
                       shape_to_string(want) + " = " + std::to_string(element_count(want)));
    }
    if (!given.shape.empty() && given.shape != want) {
      throw UsageError("input '" + t.name + "' has shape " + shape_to_string(given.shape) + ", expected " +
                       shape_to_string(want) + " (the model's input shape at batch " + std::to_string(batch) + ")");
    }
  }
}

MemoryPlan Graph::plan_keeping_all(std::uint64_t alignment) const {
  std::vector<PlanTensor> keep = plan_tensors_;
  const int steps = static_cast<int>(layers_.size());
  for (PlanTensor& p : keep) {
    p.last_step = steps;
    p.in_place_of = -1;
  }
  return plan_memory(keep, steps, alignment);
}

}  // namespace kiln
