// Which layers the GPU engine folds into the layer that produces their input (CUDA-free, so CI tests
// it): an activation into a convolution or a sum, and a residual add into the convolution that
// produces one of its operands, with the activation after that add too. A folded layer runs nothing;
// its producer applies it to its own output, and the folded layer's output is a view of the producer's.
#pragma once

#include <vector>

#include "engine/graph.h"

namespace kiln {

// Kinds of work a layer can fold into its producer, as bit flags.
enum EpilogueKind : unsigned {
  kNoEpilogue = 0,
  kActivationEpilogue = 1u << 0,  // a pointwise activation of the producer's output
  // out = producer's output + another tensor of the same shape (ResNet's residual), read where the
  // producer runs: that tensor must exist by then (a graph input, or made by an earlier layer).
  kResidualAddEpilogue = 1u << 1,
};

// What one layer's GPU op declares (engine/gpu/op.h's OpDeclaration, reduced to fusion).
struct FusionTraits {
  unsigned accepts = kNoEpilogue;  // as producer: the kinds it can apply to its own output
  unsigned kind = kNoEpilogue;     // as consumer: the kinds it can be folded in as
};

struct FusionPlan {
  // Per layer: the producer it is folded into, or -1.
  std::vector<int> folded_into;
  // Per layer: the layers folded into it, in graph order (a residual add before its activation).
  std::vector<std::vector<int>> epilogues;
  // Per layer: the tensor its folded residual add reads besides the layer's own output, or -1.
  std::vector<int> residual;
};

// The folding rules: a layer L is folded into the layer P before it when L declares an epilogue kind P
// accepts, P's output is read by L alone and is no model output, and
//   - an activation reads nothing but P's output (P without an activation yet; after a folded
//     residual add, the add's output is P's for this purpose), or
//   - a residual add reads P's output and one other tensor, made before P runs.
// `residual_adds` false folds activations only (GpuEngineOptions::fuse_residual). `traits` has one
// entry per layer of `graph`. Throws UsageError when it does not.
FusionPlan plan_fusion(const Graph& graph, const std::vector<FusionTraits>& traits, bool residual_adds);

}  // namespace kiln
