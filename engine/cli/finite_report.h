// --check-finite for the kiln commands: after a run, report the first input or layer output that
// holds a NaN or an infinity (engine/finite_check.h), by name, on stderr.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/runner.h"

namespace kiln {

// True when every input and output of `result` is finite. Otherwise prints, on one line each, the
// first non-finite input, or the first non-finite output and the first layer whose output is not
// finite (taken from result.layers when the run kept them, else from a second run that keeps them:
// on the GPU that loads the model again with `options` and keep_layer_outputs), and returns false.
bool report_nonfinite(const RunnerOptions& options, ModelRunner& runner, const std::vector<HostTensor>& inputs,
                      std::int64_t batch, const RunResult& result);

}  // namespace kiln
