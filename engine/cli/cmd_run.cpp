#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/cli/commands.h"
#include "engine/cli/options.h"
#include "engine/cli/device_options.h"
#include "engine/cli/finite_report.h"
#include "engine/runner.h"
#include "base/errors.h"
#include "engine/json_writer.h"
#include "engine/model_dir.h"

namespace kiln {

int cmd_run(int argc, char** argv) {
  RunnerOptions ro;
  std::string input, output, json_path;
  std::int64_t repeat = 1;
  OptionParser p("kiln run --model DIR --input FILE --output FILE [options]",
                 "Runs the model on the tensors of FILE (a .manifest + .bin pair, such as the exporter's\n"
                 "golden/inputs.manifest; tensor names must match the model's inputs) and writes the outputs as\n"
                 "another pair (FILE.manifest + FILE.bin). The input's first dimension is the batch.");
  p.add_string("model", "DIR", "model folder (or its model.yaml)", &ro.model, true);
  p.add_string("input", "FILE", "input tensors (.manifest); default: DIR/golden/inputs.manifest", &input);
  p.add_string("output", "FILE", "where to write the outputs (.manifest)", &output, true);
  add_device_options(p, ro);
  p.add_int("max-batch", "N", "largest batch to plan for (0 = the input's batch)", &ro.max_batch);
  p.add_int("repeat", "N", "run N times after one warm-up run and report the median wall time", &repeat);
  p.add_string("json", "FILE", "also write device, timings and output names as JSON", &json_path);
  bool check_finite = false;
  p.add_flag("check-finite",
             "report the first input or layer output that holds NaN/Inf, by name, and exit 1 (the outputs are "
             "written all the same)",
             &check_finite);
  bool allow_extra = false;
  add_allow_extra_inputs(p, &allow_extra);
  if (!p.parse(argc, argv, 2)) return 0;
  if (repeat < 1) throw UsageError("--repeat: expected at least 1, got " + std::to_string(repeat));
  if (input.empty()) input = model_folder(resolve_model_yaml(ro.model)) + "/golden/inputs.manifest";

  std::vector<HostTensor> inputs = read_host_tensors(input);
  const std::int64_t batch = input_batch(ro.model, inputs, input);
  if (ro.max_batch == 0) ro.max_batch = batch;
  using clock = std::chrono::steady_clock;
  const auto ms_since = [](clock::time_point t) {
    return std::chrono::duration<double, std::milli>(clock::now() - t).count();
  };
  const auto load_start = clock::now();
  auto runner = make_runner(ro);
  const double load_ms = ms_since(load_start);
  std::fprintf(stderr, "device: %s\n", runner->device_description().c_str());
  inputs = match_inputs(runner->graph(), std::move(inputs), input, allow_extra);
  const auto first_start = clock::now();
  RunResult result = runner->run(inputs, batch, RunOptions{});
  const double first_ms = ms_since(first_start);
  std::vector<double> times;
  for (std::int64_t i = 0; i < repeat && repeat > 1; ++i) {
    const auto t = clock::now();
    result = runner->run(inputs, batch, RunOptions{});
    times.push_back(ms_since(t));
  }
  if (times.empty()) times.push_back(first_ms);
  std::sort(times.begin(), times.end());
  const double median_ms = times[times.size() / 2];
  std::fprintf(stderr, "load %.1f ms, first run %.2f ms, median of %zu run(s) %.3f ms (batch %lld, host to host)\n",
               load_ms, first_ms, times.size(), median_ms, static_cast<long long>(batch));
  write_host_tensors(output, result.outputs);
  for (const HostTensor& t : result.outputs) {
    std::printf("%s %s -> %s\n", t.name.c_str(), shape_to_string(t.shape).c_str(), output.c_str());
  }
  if (!json_path.empty()) {
    JsonWriter j;
    j.begin_object().value("model", runner->graph().spec().path).value("device", runner->device_description());
    j.value("batch", batch).value("load_ms", load_ms).value("first_run_ms", first_ms);
    j.value("runs", static_cast<std::uint64_t>(times.size())).value("median_ms", median_ms);
    j.value("min_ms", times.front()).value("max_ms", times.back()).value("output_file", output);
    j.begin_array("outputs");
    for (const HostTensor& t : result.outputs) j.begin_object().value("name", t.name).value("shape", shape_to_string(t.shape)).end_object();
    j.end_array().end_object().save(json_path);
  }
  if (check_finite && !report_nonfinite(ro, *runner, inputs, batch, result)) return kExitMismatch;
  return kExitOk;
}

}  // namespace kiln
