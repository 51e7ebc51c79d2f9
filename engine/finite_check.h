// --check-finite: which tensor first holds a NaN or an infinity. A NaN in an input runs silently to
// all-NaN outputs, and a layer that overflows does the same; this names the input or the first layer
// whose output is not finite, so the user knows where to look.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/host_tensor.h"

namespace kiln {

struct NonFinite {
  std::string tensor;       // its name
  std::size_t index = 0;    // the first element that is NaN or infinite
  float value = 0;
  std::string describe() const;  // "tensor 'x' element 12 is nan"
};

// The first tensor of `tensors` (in order) holding a NaN or an infinity, and where.
std::optional<NonFinite> first_nonfinite(const std::vector<HostTensor>& tensors);

// Given a run whose outputs were not all finite from finite inputs, the first layer (in execution
// order) whose output holds a NaN or an infinity: "model.yaml:12: layer enc.3 (conv2d): output element
// 7 is inf (its inputs are finite)". `layer_outputs` is RunResult::layers of a run that kept them.
std::string first_nonfinite_layer(const Graph& graph, const std::vector<HostTensor>& layer_outputs);

}  // namespace kiln
