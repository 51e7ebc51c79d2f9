// The network as kiln runs it: layers built and shape-checked from model.yaml + the manifest, the
// tensors between them with their lifetimes, and the activation memory plan.
//
// A Graph is immutable once built and holds no device memory; backends (the CPU reference executor,
// the GPU engine) run it. Thread-safety: read-only after build; share freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/api.h"
#include "engine/planner.h"
#include "formats/manifest.h"
#include "formats/model_spec.h"
#include "layers/layer.h"

namespace kiln {

struct HostTensor;

struct GraphTensor {
  std::string name;
  Shape shape;                  // at the graph's max batch
  std::uint64_t bytes = 0;      // float32 bytes at max batch
  int producer = -1;            // layer index; -1 for a network input
  std::vector<int> consumers;   // layer indices, ascending
  bool is_output = false;
};

struct GraphBuildOptions {
  // Largest batch the graph will run; 0 = the batch written in model.yaml's inputs.
  std::int64_t max_batch = 0;
  std::uint64_t alignment = 256;
  // The input shapes to build for, one per model input (their batch dimension is ignored: tensors are
  // at max_batch). Empty: each input as model.yaml writes it, except that an input with a dynamic
  // height × width (InputSpec::dynamic_hw) takes the largest of its range, so that the graph's memory
  // plan holds every size the model may run at. A shape given here must be the model's but for a
  // dynamic input's height and width, which must lie in its range (UsageError naming the input, the
  // size and the range otherwise).
  std::vector<Shape> input_shapes;
};

class KILN_API Graph {
 public:
  // Builds every layer through the registry, checking shapes and weights; plans memory.
  // Throws FormatError / ModelError naming the file, line, layer and field.
  static Graph build(const ModelSpec& spec, const Manifest& manifest, const GraphBuildOptions& options = {});

  const ModelSpec& spec() const { return spec_; }
  const Manifest& manifest() const { return manifest_; }
  std::int64_t max_batch() const { return max_batch_; }

  // Shapes (Note [input sizes] in engine/graph.cpp). True when some input has a dynamic height × width.
  bool dynamic() const;
  // The shape of each input tensor of this graph, at max batch.
  std::vector<Shape> input_shapes() const;
  // The input shapes (at max batch) of a run of `inputs`: each HostTensor's own shape with its batch
  // replaced, or this graph's where the HostTensor has none. Checks each against the model (rank,
  // fixed dimensions, a dynamic input's range) and throws UsageError naming the input otherwise.
  std::vector<Shape> run_shapes(const std::vector<HostTensor>& inputs) const;
  // Checks one input's shape (any batch) against the model as run_shapes does; "" when it fits, else
  // the problem ("input 'x' has shape [1,3,9,9]; the model takes [N,3,H,W] with 16 <= H <= 512 and
  // 16 <= W <= 512 (model.yaml:6: its height × width range, given at export)").
  std::string input_shape_problem(std::size_t input, const Shape& shape) const;
  // The same model built for other input shapes (GraphBuildOptions::input_shapes; same max batch and
  // alignment). Every layer is rebuilt, so a size that a layer cannot take is a ModelError naming it.
  Graph at_input_shapes(const std::vector<Shape>& shapes) const;

  // Layers in execution order; layer i is step i of the plan.
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  // Tensors: the network inputs first (in model order), then one per layer (tensor input_count + i
  // is layer i's output).
  const std::vector<GraphTensor>& tensors() const { return tensors_; }
  int tensor_index(const std::string& name) const;  // -1 when absent; constant time
  // For messages: "model.yaml:12: layer enc.0 (conv2d): its output", or "model.yaml: input 'x'".
  std::string describe_tensor(int index) const;
  const std::vector<int>& input_tensors() const { return inputs_; }
  const std::vector<int>& output_tensors() const { return outputs_; }
  int output_tensor_of(int layer) const { return static_cast<int>(inputs_.size()) + layer; }
  // Tensor indices read by layer i, in the layer's input order.
  const std::vector<int>& layer_inputs(int layer) const { return layer_inputs_.at(layer); }

  // The plan at max batch (float32 activations). Offsets scale with nothing: a smaller batch uses a
  // prefix of each tensor's block.
  const MemoryPlan& plan() const { return plan_; }
  const std::vector<PlanTensor>& plan_tensors() const { return plan_tensors_; }

  // Checks host tensors given for a run at `batch` (1 ≤ batch ≤ max_batch()) against the network inputs:
  // their count, names (where given), shapes (where given) and element counts. Every backend calls it
  // before touching memory; throws UsageError naming the input.
  void check_run_inputs(const std::vector<HostTensor>& inputs, std::int64_t batch) const;

  // Keep every layer's output alive to the end (for layer-by-layer comparison): builds a second
  // plan where nothing is reused. Cheap; used by `kiln compare --layers`.
  MemoryPlan plan_keeping_all(std::uint64_t alignment = 256) const;

 private:
  ModelSpec spec_;
  Manifest manifest_;
  std::int64_t max_batch_ = 1;
  std::uint64_t alignment_ = 256;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<GraphTensor> tensors_;
  std::unordered_map<std::string, int> tensor_index_;  // name -> index in tensors_
  std::vector<int> inputs_;
  std::vector<int> outputs_;
  std::vector<std::vector<int>> layer_inputs_;
  std::vector<PlanTensor> plan_tensors_;
  MemoryPlan plan_;
};

}  // namespace kiln
