// What `kiln inspect` and the Python package's Engine.inspect() say about a model beyond shapes and
// memory: each layer's attributes, weights (role, shape, dtype) and parameter count, as text cells and
// as JSON (engine/json_writer.h).
//
// Attributes come from the model.yaml spec, which keeps them as written (a layer keeps only the
// parameters it parsed, in its own form), so defaults the file leaves out are not listed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/json_writer.h"

namespace kiln {

struct LayerWeight {
  std::string role;  // "weight", "bias", ... as model.yaml names it
  const TensorEntry* tensor = nullptr;
};

// The weights layer `layer` bound, in the order it bound them.
std::vector<LayerWeight> layer_weights(const Graph& g, std::size_t layer);
// The elements of those weights.
std::uint64_t layer_parameters(const Graph& g, std::size_t layer);
// The elements of every weight tensor in the model's manifest.
std::uint64_t parameter_count(const Graph& g);

// "kernel_size=[3,3] padding=1 stride=2": keys sorted, values as written; "" when there are none.
std::string attributes_text(const Attributes& a);
// "weight [32,3,3,3] f32, bias [32] f32"; "" when there are none.
std::string weights_text(const std::vector<LayerWeight>& w);
// 11689512 -> "11,689,512".
std::string with_thousands(std::uint64_t n);

// {"kernel_size": [3, 3], "stride": 2, ...}: ints, numbers, booleans, strings and lists as typed.
Json attributes_json(const Attributes& a);
// {"model", "name", "device", "batch", "inputs", "outputs" (names, shapes), "parameters", "weights_file",
//  "weight_bytes", "layers": [{"index", "name", "op", "inputs", "output", "output_shape", "attributes",
//  "weights": [{"role", "name", "shape", "dtype", "parameters"}], "parameters", "flops"}]}.
// Shapes are arrays at the graph's batch. Backends add their own fields to each layer.
Json model_json(const Graph& g, const std::string& device);

}  // namespace kiln
