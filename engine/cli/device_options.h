// The options every command that loads a model shares: --device, --precision, --algo, --workspace-mb.
#pragma once

#include "engine/runner.h"

namespace kiln {

class OptionParser;

// Adds the four options to a command's parser, writing into `options`.
void add_device_options(OptionParser& parser, RunnerOptions& options);

// Adds --allow-extra-inputs (tensors in the inputs file that are not model inputs: a warning, not an error).
void add_allow_extra_inputs(OptionParser& parser, bool* allow);

}  // namespace kiln
