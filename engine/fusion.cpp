#include "engine/fusion.h"

#include <cstddef>
#include <string>

#include "base/errors.h"

namespace kiln {

namespace {

// The single reader of layer `i`'s output, or -1 when it has none, several, or the output is a model output.
int only_reader(const Graph& graph, int i) {
  const GraphTensor& out = graph.tensors()[static_cast<std::size_t>(graph.output_tensor_of(i))];
  if (out.is_output || out.consumers.size() != 1) return -1;
  return out.consumers[0];
}

}  // namespace

FusionPlan plan_fusion(const Graph& graph, const std::vector<FusionTraits>& traits, bool residual_adds) {
  const std::size_t n = graph.layers().size();
  if (traits.size() != n) {
    throw UsageError("plan_fusion: " + std::to_string(traits.size()) + " fusion traits for a graph of " +
                     std::to_string(n) + " layers");
  }
  FusionPlan plan;
  plan.folded_into.assign(n, -1);
  plan.epilogues.assign(n, {});
  plan.residual.assign(n, -1);
  const auto fold = [&](int layer, int into) {
    plan.folded_into[static_cast<std::size_t>(layer)] = into;
    plan.epilogues[static_cast<std::size_t>(into)].push_back(layer);
  };
  // Layers in graph order, so a producer is decided before its readers are considered as producers.
  for (std::size_t u = 0; u < n; ++u) {
    const int i = static_cast<int>(u);
    int root = i;
    unsigned accepts = traits[u].accepts;
    if (plan.folded_into[u] >= 0) {
      // A folded residual add passes on only the activation after it, to the layer it is folded into.
      root = plan.folded_into[u];
      const auto r = static_cast<std::size_t>(root);
      const bool is_residual_add = plan.residual[r] >= 0 && plan.epilogues[r].size() == 1 && plan.epilogues[r][0] == i;
      accepts = is_residual_add ? traits[r].accepts & kActivationEpilogue : kNoEpilogue;
    }
    if (accepts == kNoEpilogue) continue;
    const int j = only_reader(graph, i);
    if (j < 0) continue;
    const int t = graph.output_tensor_of(i);
    const std::vector<int>& reads = graph.layer_inputs(j);
    const unsigned kind = traits[static_cast<std::size_t>(j)].kind;
    if ((kind & accepts & kActivationEpilogue) != 0 && reads == std::vector<int>{t}) {
      fold(j, root);
      continue;
    }
    if (!residual_adds || root != i || (kind & accepts & kResidualAddEpilogue) == 0 || reads.size() != 2) continue;
    const int other = reads[0] == t ? reads[1] : reads[1] == t ? reads[0] : -1;
    if (other < 0 || other == t) continue;
    // The other operand is read when layer i runs: it must be made by then.
    if (graph.tensors()[static_cast<std::size_t>(other)].producer >= i) continue;
    fold(j, i);
    plan.residual[u] = other;
  }
  return plan;
}

}  // namespace kiln
