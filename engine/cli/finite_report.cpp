#include "engine/cli/finite_report.h"

#include <cstdio>

#include "engine/finite_check.h"

namespace kiln {

bool report_nonfinite(const RunnerOptions& options, ModelRunner& runner, const std::vector<HostTensor>& inputs,
                      std::int64_t batch, const RunResult& result) {
  if (const auto bad = first_nonfinite(inputs)) {
    std::fprintf(stderr, "check-finite: input %s\n", bad->describe().c_str());
    return false;
  }
  const auto bad = first_nonfinite(result.outputs);
  if (!bad) return true;
  std::fprintf(stderr, "check-finite: output %s\n", bad->describe().c_str());
  std::string where;
  if (!result.layers.empty()) {
    where = first_nonfinite_layer(runner.graph(), result.layers);
  } else if (options.device == "cpu" || runner.device_description().rfind("cpu", 0) == 0) {
    where = first_nonfinite_layer(runner.graph(), runner.run(inputs, batch, RunOptions{true}).layers);
  } else {
    // Fusion and memory reuse overwrite intermediate layers: a second engine keeps every one.
    RunnerOptions keep = options;
    keep.keep_layer_outputs = true;
    auto kept = make_runner(keep);
    where = first_nonfinite_layer(kept->graph(), kept->run(inputs, batch, RunOptions{true}).layers);
  }
  std::fprintf(stderr, "check-finite: first non-finite layer output: %s\n", where.c_str());
  return false;
}

}  // namespace kiln
