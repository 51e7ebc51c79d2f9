// The options every command that loads a model shares: --device, --precision, --algo, --workspace-mb.
#pragma once

#include "engine/runner.h"

namespace kiln {

class OptionParser;

// Adds the four options to a command's parser, writing into `options`.
void add_device_options(OptionParser& parser, RunnerOptions& options);

}  // namespace kiln
