// What `kiln inspect --json` shows (engine/layer_info.h's model_json), as Python objects, with what the
// engine adds: the precision and, on the GPU, each layer's implementation and workspace.
#pragma once

#include <pybind11/pybind11.h>

#include "python/src/session.h"

namespace kiln::python {

// [{"name", "shape"}] for the model inputs or outputs; shapes at the engine's max batch.
pybind11::list describe_tensors(const Graph& g, const std::vector<int>& ids);
// model_json(graph, description) plus "precision", "activation_bytes" (the arena), and on the GPU "workspace_bytes" and per layer
// "implementation" and "workspace_bytes".
pybind11::dict describe_engine(const Engine& engine);

}  // namespace kiln::python
