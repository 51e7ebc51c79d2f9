#include "engine/finite_check.h"

#include <cmath>
#include <cstdio>

#include "base/text.h"

namespace kiln {

std::string NonFinite::describe() const {
  char v[32];
  std::snprintf(v, sizeof v, "%g", static_cast<double>(value));
  return "tensor " + quote(tensor) + " element " + std::to_string(index) + " is " + v;
}

std::optional<NonFinite> first_nonfinite(const std::vector<HostTensor>& tensors) {
  for (const HostTensor& t : tensors) {
    for (std::size_t i = 0; i < t.data.size(); ++i) {
      if (!std::isfinite(t.data[i])) return NonFinite{t.name, i, t.data[i]};
    }
  }
  return std::nullopt;
}

std::string first_nonfinite_layer(const Graph& graph, const std::vector<HostTensor>& layer_outputs) {
  for (std::size_t l = 0; l < layer_outputs.size() && l < graph.layers().size(); ++l) {
    const auto bad = first_nonfinite({layer_outputs[l]});
    if (!bad) continue;
    char v[32];
    std::snprintf(v, sizeof v, "%g", static_cast<double>(bad->value));
    return graph.layers()[l]->origin().describe() + ": output element " + std::to_string(bad->index) + " is " + v +
           (l == 0 ? " (the model's inputs are finite)" : " (every earlier layer's output is finite)");
  }
  return "no layer output holds a NaN or an infinity";
}

}  // namespace kiln
