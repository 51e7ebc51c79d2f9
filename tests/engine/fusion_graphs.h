// Small graphs for the CUDA-free tests of what the GPU engine decides from its ops' declarations
// (fusion, mixed precision): 8-channel 3x3 convolutions written as model.yaml lines, their weights, and
// the fusion traits the GPU ops declare.
#pragma once

#include <string>
#include <vector>

#include "engine/fusion.h"
#include "engine/graph.h"
#include "tests/common/test_model.h"

namespace kiln::test {

// A 3x3 convolution `name` of `in` (8 channels in and out, with a bias).
inline std::string conv8(const std::string& name, const std::string& in) {
  return "{name: " + name + ", op: conv2d, inputs: [" + in +
         "], attributes: {out_channels: 8, kernel_size: 3, padding: 1}, weights: {weight: " + name + ".w, bias: " +
         name + ".b}}";
}

// The weights of conv8 layers named `names`.
inline std::vector<TestModel::Tensor> conv8_weights(const std::vector<std::string>& names) {
  std::vector<TestModel::Tensor> w;
  for (const std::string& n : names) {
    w.push_back({n + ".w", {8, 8, 3, 3}});
    w.push_back({n + ".b", {8}});
  }
  return w;
}

// What the GPU ops declare: conv2d accepts both kinds, an equal-shape add of two tensors is a residual
// add that accepts an activation, relu is an activation.
inline std::vector<FusionTraits> gpu_fusion_traits(const Graph& g) {
  std::vector<FusionTraits> t;
  for (const auto& layer : g.layers()) {
    if (layer->op() == "conv2d") t.push_back({kActivationEpilogue | kResidualAddEpilogue, kNoEpilogue});
    else if (layer->op() == "add") t.push_back({kActivationEpilogue, kResidualAddEpilogue});
    else if (layer->op() == "relu") t.push_back({kNoEpilogue, kActivationEpilogue});
    else t.push_back({});
  }
  return t;
}

}  // namespace kiln::test
