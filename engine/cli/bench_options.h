// Options shared by `kiln bench` and `kiln profile` (cmd_bench.cpp, cmd_profile.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/bench/report.h"

namespace CLI {
class App;
}

namespace kiln {

struct BenchCliOptions {
  bench::BenchConfig config;
  std::int64_t workspace_mb = 256;
  std::string shape;  // --shape HxW, parsed into config.hw by resolve_bench_options
};

// "1080x1920" -> {1080, 1920}; UsageError naming `option` for anything else.
std::vector<std::int64_t> parse_hw(const std::string& text, const std::string& option);

// "0,1" -> {0, 1}: GPU numbers separated by commas (1 to 16 of them, each 0..1023, repeats allowed);
// UsageError naming `option` for anything else.
std::vector<int> parse_device_list(const std::string& text, const std::string& option);

// Adds --model, --device, --precision (fp32|tf32|fp16), --algo, --workspace-mb, --batch, --input, --shape,
// --warmup-ms, --iterations and --duration-s with their help text, showing the values `o` holds as
// the defaults. `iterations_help` says what one iteration is.
void add_bench_options(CLI::App& cmd, BenchCliOptions& o, const std::string& iterations_help);

// After parsing: resolves --device auto and --batch 0 (the
// --input file's batch, else model.yaml's), and checks the counts. `gpu_only`: refuse --device cpu.
// Throws UsageError with the option's name.
void resolve_bench_options(BenchCliOptions& o, bool gpu_only);

}  // namespace kiln
