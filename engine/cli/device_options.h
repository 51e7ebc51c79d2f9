// The options every command that loads a model shares: --model, --device, --precision, --algo,
// --workspace-mb, and the checks made on them before anything is loaded.
#pragma once

#include <string>

#include "engine/runner.h"

namespace CLI {
class App;
}

namespace kiln {

// Adds --model DIR (required). A path that names another format's file (.onnx, .pt, a TensorRT
// engine, ...) is refused while parsing, with the kiln_export command that makes a kiln model.
void add_model_option(CLI::App& cmd, std::string& model);

// Adds --device, --precision, --algo and --workspace-mb, writing into `options`.
void add_device_options(CLI::App& cmd, RunnerOptions& options);

// Adds --allow-extra-inputs (tensors in the inputs file that are not model inputs: a warning, not an error).
void add_allow_extra_inputs(CLI::App& cmd, bool& allow);

// "gpu" or "cpu" for --device `device` (auto: the GPU when one is usable). Throws UsageError for gpu
// without a usable GPU, saying why and that --device cpu runs the CPU reference path.
std::string resolve_device(const std::string& device);

}  // namespace kiln
