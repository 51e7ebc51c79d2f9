#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "base/errors.h"
#include "engine/bench/bench.h"
#include "engine/cli/bench_options.h"
#include "engine/cli/commands.h"
#include "engine/cli/finite_report.h"
#include "engine/cli/options.h"
#include "engine/cli/path_checks.h"

namespace kiln {

namespace {

struct BenchCommandOptions {
  BenchCliOptions bench;
  std::string json_path;
  std::string devices;  // --devices, parsed into config.devices
  bool no_transfers = false;
  bool check_finite = false;
};

int bench_command(BenchCommandOptions& o) {
  bench::BenchConfig& c = o.bench.config;
  c.transfers = !o.no_transfers;
  if (!o.devices.empty()) c.devices = parse_device_list(o.devices, "--devices");
  resolve_bench_options(o.bench, false);
  if (c.device == "cpu" && (c.cuda_graph || c.streams != 1 || o.no_transfers)) {
    throw UsageError(
        "--cuda-graph, --streams and --no-transfers need --device gpu (the CPU reference path runs "
        "on the host)");
  }

  if (o.check_finite) {
    RunnerOptions ro;
    ro.model = c.model;
    ro.device = c.device;
    ro.precision = c.precision;
    ro.algo = c.algo;
    ro.workspace_mb = o.bench.workspace_mb;
    ro.plan_cache = c.plan_cache;
    ro.fp32_layers = c.fp32_layers;  // the engine that is timed
    ro.max_batch = c.batch;
    auto runner = make_runner(ro);
    const std::vector<HostTensor> inputs = bench::bench_inputs(runner->graph(), c);
    if (!report_nonfinite(ro, *runner, inputs, c.batch, runner->run(inputs, c.batch, RunOptions{}))) {
      return kExitMismatch;
    }
  }

  const bench::BenchResult r =
      c.device == "gpu" ? bench::run_gpu_bench(c, o.bench.workspace_mb) : bench::run_cpu_bench(c);
  const bench::BenchSummary s = bench::summarize_bench(r);
  std::fputs(bench::format_report(r, s).c_str(), stdout);
  if (!o.json_path.empty()) {
    JsonWriter j;
    bench::write_json(j, r, s);
    j.save(o.json_path);
  }
  return kExitOk;
}

}  // namespace

Command add_bench_command(CLI::App& tool) {
  auto o = std::make_shared<BenchCommandOptions>();
  bench::BenchConfig& c = o->bench.config;
  CLI::App* cmd = cli::add_command(
      tool, "bench", "measure throughput, latency percentiles, start-up and device memory (like trtexec)",
      "Measures a model like trtexec: warms up for --warmup-ms, then runs at least --iterations times and for at\n"
      "least --duration-s seconds, and reports throughput and, per iteration, min/median/mean/p90/p95/p99/max of:\n"
      "  latency      H2D + GPU compute + D2H of one iteration on the GPU timeline (CUDA events)\n"
      "  enqueue      host time to submit one iteration (when it reaches GPU compute, the GPU waits for the host)\n"
      "  H2D, D2H     the input and output copies between pinned host memory and the device\n"
      "  GPU compute  the network: inputs into the activation arena, every layer, outputs out of it\n"
      "It also splits the start-up (parse, weight upload, algorithm selection, contexts, first inference) and the\n"
      "device memory (weights, activation arena, workspace, peak in use), and warns when the timings vary much\n"
      "(coefficient of variation over 5%) or when enqueueing bounds the throughput. A progress line shows on\n"
      "stderr during runs longer than 2 s. With --device cpu the CPU reference path is timed with the host\n"
      "clock (latency only).");
  add_bench_options(*cmd, o->bench, "measure at least this many iterations (one iteration = one batch)");
  cli::add_flag(*cmd, "--cuda-graph", c.cuda_graph,
                "capture one run in a CUDA graph and replay it (one launch per iteration)");
  cli::add_int(*cmd, "--streams", "N", c.streams,
               "run N execution contexts on N streams at once, iterations round robin");
  cli::add_string(*cmd, "--devices", "LIST", o->devices,
                  "run on these GPUs at once, e.g. 0,1: the model is loaded once and placed on each (one engine per "
                  "device), --streams contexts on every device; reports each device's and the total throughput")
      ->default_str("device 0 only");
  cli::add_flag(*cmd, "--no-transfers", o->no_transfers,
                "keep inputs and outputs on the device: no H2D/D2H per iteration");
  cli::add_string(*cmd, "--json", "FILE", o->json_path,
                  "also write the report as JSON (every statistic, the splits and warnings)")
      ->check(cli::writable_output_path());
  cli::add_flag(*cmd, "--check-finite", o->check_finite,
                "first run once and report the first input or layer output holding NaN/Inf, by name (exit 1, no "
                "measurement): NaNs can run at another speed than real data");
  return Command{cmd, [o] { return bench_command(*o); }};
}

}  // namespace kiln
