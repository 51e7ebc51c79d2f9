// kiln tune: fills the plan cache (Note [plan cache], formats/plan_cache.h) for a model, so that the
// application's own load later finds every convolution's engine and compiled plan there.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/errors.h"
#include "engine/bench/bench.h"
#include "engine/cli/commands.h"
#include "engine/cli/device_options.h"
#include "engine/cli/options.h"
#include "engine/gpu/context.h"
#include "engine/gpu/engine.h"
#include "engine/runner.h"

namespace kiln {

namespace {

struct TuneCommandOptions {
  RunnerOptions runner;
  std::string precisions = "fp16";
  std::string batches;  // "1,8,32"; empty: the max batch
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

int tune_command(TuneCommandOptions& o) {
  std::string why_not;
  if (!gpu_available(&why_not)) throw UsageError("kiln tune needs a GPU: " + why_not);
  std::vector<std::int64_t> batches;
  for (const std::string& b : split_list(o.batches)) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(b, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != b.size() || v < 1) throw UsageError("--batch: expected batches like 1,8,32, got '" + o.batches + "'");
    batches.push_back(v);
  }
  const std::int64_t max_batch = o.runner.max_batch;
  if (max_batch < 0) throw UsageError("--max-batch: expected 0 (the model's batch) or more, got " + std::to_string(max_batch));
  const std::vector<std::string> precisions = split_list(o.precisions);
  if (precisions.empty()) throw UsageError("--precision: expected one or more of fp32, tf32, fp16");
  for (const std::string& p : precisions) {
    // --fp32-layers applies to the fp16 engine only (a mixed engine's float32 layers are cached as fp32's).
    gpu::GpuEngineOptions eo = gpu::engine_options_from(p, o.runner.algo, o.runner.workspace_mb, o.runner.plan_cache,
                                                        p == "fp16" ? o.runner.fp32_layers : "");
    if (eo.plan_cache.empty()) {
      throw UsageError("--plan-cache off: kiln tune fills the plan cache on disk; give it a directory or leave the default");
    }
    const auto t = bench::Clock::now();
    GraphBuildOptions go;
    go.max_batch = max_batch;
    const auto engine = gpu::GpuEngine::load(o.runner.model, eo, go);
    const double load_ms = bench::ms_since(t);
    gpu::ExecutionContext ctx(engine);
    const auto t2 = bench::Clock::now();
    std::vector<std::int64_t> todo = batches.empty() ? std::vector<std::int64_t>{engine->max_batch()} : batches;
    for (const std::int64_t b : todo) {
      if (b > engine->max_batch()) {
        throw UsageError("--batch " + std::to_string(b) + " is above the max batch " + std::to_string(engine->max_batch()) +
                         " (give --max-batch as the application loads the model)");
      }
    }
    for (const std::int64_t b : todo) ctx.prepare(b);
    const double prepare_ms = bench::ms_since(t2);
    const PlanCacheStats s = engine->plan_cache().stats();
    std::string batch_list;
    for (const std::int64_t b : todo) batch_list += (batch_list.empty() ? "" : ",") + std::to_string(b);
    std::printf("%s %s: load %.1f ms, plans for batch %s %.1f ms; plan cache %lld hit(s), %lld miss(es), "
                "%lld rejected, %lld written\n",
                engine->device_description().c_str(), p.c_str(), load_ms, batch_list.c_str(), prepare_ms,
                static_cast<long long>(s.hits), static_cast<long long>(s.misses), static_cast<long long>(s.rejected),
                static_cast<long long>(s.written));
    if (s.write_failures > 0 || !engine->plan_cache().first_problem().empty()) {
      std::printf("  first problem: %s\n", engine->plan_cache().first_problem().c_str());
    }
    if (s.write_failures > 0) {
      throw UsageError("the plan cache could not be written (" + std::to_string(s.write_failures) +
                       " entries): " + engine->plan_cache().first_problem());
    }
  }
  return kExitOk;
}

}  // namespace

Command add_tune_command(CLI::App& tool) {
  auto o = std::make_shared<TuneCommandOptions>();
  o->runner.device = "gpu";
  CLI::App* cmd = cli::add_command(
      tool, "tune", "fill the plan cache for a model, so that later loads start without choosing or compiling",
      "Loads the model on the GPU in each --precision, builds a context's plans for each --batch and writes\n"
      "what was chosen into the plan cache: each convolution's cuDNN engine config and, for the engines\n"
      "cuDNN compiles at run time, the compiled plan. A later load (kiln run/bench/compare, the C++ API or\n"
      "Python) with the same GPU, driver, cuDNN, precision, --algo and --workspace-mb finds them there;\n"
      "kiln bench reports the hits. Entries are keyed by all of these, checked (CRC-32 and the full key)\n"
      "when read, and rebuilt when stale, foreign or damaged; several processes may fill one cache at once.\n"
      "--algo find times the candidates once here instead of at every load.");
  add_model_option(*cmd, o->runner.model);
  cli::add_string(*cmd, "--precision", "LIST", o->precisions, "precisions to tune, comma-separated (fp32,tf32,fp16)");
  cli::add_int(*cmd, "--max-batch", "N", o->runner.max_batch,
               "the max batch the application loads the model with (the keys hold the shapes at it; 0 = model.yaml's)");
  cli::add_string(*cmd, "--batch", "LIST", o->batches, "batches whose plans to build, comma-separated (1,8,32), each at most the max batch")
      ->default_str("the max batch");
  cli::add_choice(*cmd, "--algo", {"heuristic", "find"}, o->runner.algo,
                  "convolution algorithm choice the application will load with (the key includes it)");
  cli::add_int(*cmd, "--workspace-mb", "MiB", o->runner.workspace_mb,
               "largest cuDNN workspace one layer may use (the key includes it)");
  cli::add_string(*cmd, "--fp32-layers", "SPEC", o->runner.fp32_layers,
                  "for the fp16 engine: the layers kept in float32, as kiln run --fp32-layers takes them")
      ->default_str("none");
  cli::add_string(*cmd, "--plan-cache", "DIR", o->runner.plan_cache, "the plan cache's directory")
      ->default_str("$KILN_PLAN_CACHE, else ~/.cache/kiln/plans");
  return Command{cmd, [o] { return tune_command(*o); }};
}

}  // namespace kiln
