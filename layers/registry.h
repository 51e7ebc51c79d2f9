// The CPU side of the op registry: op name -> the factory that builds its Layer, expanded from the
// one table in layers/op_table.h (the GPU side is layers/registry_gpu.h). Looking up an unknown op
// is a ModelError that lists every known op.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace kiln {

using LayerFactory = std::unique_ptr<Layer> (*)(const LayerBuildContext&);

// Builds the layer described by ctx.spec(); throws ModelError for unknown ops and invalid layers.
std::unique_ptr<Layer> build_layer(const LayerBuildContext& ctx);

// Sorted op names.
std::vector<std::string> registered_ops();

}  // namespace kiln
