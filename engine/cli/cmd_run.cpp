#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "base/errors.h"
#include "engine/cli/commands.h"
#include "engine/cli/device_options.h"
#include "engine/cli/finite_report.h"
#include "engine/cli/options.h"
#include "engine/cli/path_checks.h"
#include "engine/json_writer.h"
#include "engine/model_dir.h"
#include "engine/runner.h"

namespace kiln {

namespace {

struct RunCommandOptions {
  RunnerOptions runner;
  std::string input, output, json_path;
  std::int64_t repeat = 1;
  bool check_finite = false;
  bool allow_extra = false;
};

int run_command(RunCommandOptions& o) {
  RunnerOptions& ro = o.runner;
  if (o.repeat < 1) throw UsageError("--repeat: expected at least 1, got " + std::to_string(o.repeat));
  ro.device = resolve_device(ro.device);
  if (o.input.empty()) o.input = model_folder(resolve_model_yaml(ro.model)) + "/golden/inputs.manifest";

  std::vector<HostTensor> inputs = read_host_tensors(o.input);
  const std::int64_t batch = input_batch(ro.model, inputs, o.input);
  if (ro.max_batch == 0) ro.max_batch = batch;
  using clock = std::chrono::steady_clock;
  const auto ms_since = [](clock::time_point t) {
    return std::chrono::duration<double, std::milli>(clock::now() - t).count();
  };
  const auto load_start = clock::now();
  auto runner = make_runner(ro);
  const double load_ms = ms_since(load_start);
  std::fprintf(stderr, "device: %s\n", runner->device_description().c_str());
  inputs = match_inputs(runner->graph(), std::move(inputs), o.input, o.allow_extra);
  const auto first_start = clock::now();
  RunResult result = runner->run(inputs, batch, RunOptions{});
  const double first_ms = ms_since(first_start);
  std::vector<double> times;
  for (std::int64_t i = 0; i < o.repeat && o.repeat > 1; ++i) {
    const auto t = clock::now();
    result = runner->run(inputs, batch, RunOptions{});
    times.push_back(ms_since(t));
  }
  if (times.empty()) times.push_back(first_ms);
  std::sort(times.begin(), times.end());
  const double median_ms = times[times.size() / 2];
  std::fprintf(stderr, "load %.1f ms, first run %.2f ms, median of %zu run(s) %.3f ms (batch %lld, host to host)\n",
               load_ms, first_ms, times.size(), median_ms, static_cast<long long>(batch));
  write_host_tensors(o.output, result.outputs);
  for (const HostTensor& t : result.outputs) {
    std::printf("%s %s -> %s\n", t.name.c_str(), shape_to_string(t.shape).c_str(), o.output.c_str());
  }
  if (!o.json_path.empty()) {
    Json j = {{"model", runner->graph().spec().path},
              {"device", runner->device_description()},
              {"batch", batch},
              {"load_ms", load_ms},
              {"first_run_ms", first_ms},
              {"runs", times.size()},
              {"median_ms", median_ms},
              {"min_ms", times.front()},
              {"max_ms", times.back()},
              {"output_file", o.output},
              {"outputs", Json::array()}};
    for (const HostTensor& t : result.outputs) {
      j["outputs"].push_back({{"name", t.name}, {"shape", shape_to_string(t.shape)}});
    }
    save_json(o.json_path, j);
  }
  if (o.check_finite && !report_nonfinite(ro, *runner, inputs, batch, result)) return kExitMismatch;
  return kExitOk;
}

}  // namespace

Command add_run_command(CLI::App& tool) {
  auto o = std::make_shared<RunCommandOptions>();
  CLI::App* cmd = cli::add_command(
      tool, "run", "run a model on an input tensor file, write the outputs",
      "Runs the model on the tensors of FILE (a .manifest + .bin pair, such as the exporter's\n"
      "golden/inputs.manifest; tensor names must match the model's inputs) and writes the outputs as\n"
      "another pair (FILE.manifest + FILE.bin). The input's first dimension is the batch. The --output\n"
      "and --json paths are checked before anything runs: their folder must exist and be writable.");
  add_model_option(*cmd, o->runner.model);
  cli::add_string(*cmd, "--input", "FILE", o->input, "input tensors (.manifest)")
      ->default_str("DIR/golden/inputs.manifest");
  cli::add_string(*cmd, "--output", "FILE", o->output, "where to write the outputs (.manifest)")
      ->required()
      ->check(cli::tensor_output_path());
  add_device_options(*cmd, o->runner);
  cli::add_int(*cmd, "--max-batch", "N", o->runner.max_batch, "largest batch to plan for (0 = the input's batch)");
  cli::add_int(*cmd, "--repeat", "N", o->repeat, "run N times after one warm-up run and report the median wall time");
  cli::add_string(*cmd, "--json", "FILE", o->json_path, "also write device, timings and output names as JSON")
      ->check(cli::writable_output_path());
  cli::add_flag(*cmd, "--check-finite", o->check_finite,
                "report the first input or layer output that holds NaN/Inf, by name, and exit 1 (the outputs are "
                "written all the same)");
  add_allow_extra_inputs(*cmd, o->allow_extra);
  return Command{cmd, [o] { return run_command(*o); }};
}

}  // namespace kiln
