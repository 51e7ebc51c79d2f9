// What `kiln inspect` shows, as Python objects: the model's inputs and outputs and every layer with its
// attributes (as written in model.yaml), weights, output shape and, on the GPU, its implementation.
#pragma once

#include <pybind11/pybind11.h>

#include "python/src/session.h"

namespace kiln::python {

// [{"name", "shape"}] for the model inputs or outputs; shapes at the engine's max batch.
pybind11::list describe_inputs(const Engine& engine);
pybind11::list describe_outputs(const Engine& engine);
// One dict per layer in execution order: name, op, inputs, output, shape, attributes, weights
// ([{role, name, shape, dtype}]), parameters, flops_per_sample; on the GPU also implementation and
// workspace_bytes.
pybind11::list describe_layers(const Engine& engine);
// Everything above plus the device, precision, max batch, parameter count and memory figures.
pybind11::dict describe_engine(const Engine& engine);

}  // namespace kiln::python
