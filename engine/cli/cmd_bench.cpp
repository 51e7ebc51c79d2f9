#include <cstdio>

#include "engine/bench/bench.h"
#include "engine/cli/bench_options.h"
#include "engine/cli/commands.h"
#include "engine/cli/finite_report.h"
#include "base/errors.h"

namespace kiln {

int cmd_bench(int argc, char** argv) {
  BenchCliOptions o;
  bench::BenchConfig& c = o.config;
  std::string json_path;
  OptionParser p(
      "kiln bench --model DIR [options]",
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
  add_bench_options(p, o, "measure at least this many iterations (one iteration = one batch)");
  p.add_flag("cuda-graph", "capture one run in a CUDA graph and replay it (one launch per iteration)", &c.cuda_graph);
  p.add_int("streams", "N", "run N execution contexts on N streams at once, iterations round robin", &c.streams);
  bool no_transfers = false;
  p.add_flag("no-transfers", "keep inputs and outputs on the device: no H2D/D2H per iteration", &no_transfers);
  p.add_string("json", "FILE", "also write the report as JSON (every statistic, the splits and warnings)", &json_path);
  bool check_finite = false;
  p.add_flag("check-finite",
             "first run once and report the first input or layer output holding NaN/Inf, by name (exit 1, no "
             "measurement): NaNs can run at another speed than real data",
             &check_finite);
  if (!p.parse(argc, argv, 2)) return 0;
  c.transfers = !no_transfers;
  resolve_bench_options(o, false);
  if (c.device == "cpu" && (c.cuda_graph || c.streams != 1 || no_transfers)) {
    throw UsageError(
        "--cuda-graph, --streams and --no-transfers need --device gpu (the CPU reference path runs "
        "on the host)");
  }

  if (check_finite) {
    RunnerOptions ro;
    ro.model = c.model;
    ro.device = c.device;
    ro.precision = c.precision;
    ro.algo = c.algo;
    ro.workspace_mb = o.workspace_mb;
    ro.max_batch = c.batch;
    auto runner = make_runner(ro);
    const std::vector<HostTensor> inputs = bench::bench_inputs(runner->graph(), c.batch, c.input_file);
    if (!report_nonfinite(ro, *runner, inputs, c.batch, runner->run(inputs, c.batch, RunOptions{}))) {
      return kExitMismatch;
    }
  }

  const bench::BenchResult r = c.device == "gpu" ? bench::run_gpu_bench(c, o.workspace_mb) : bench::run_cpu_bench(c);
  const bench::BenchSummary s = bench::summarize_bench(r);
  std::fputs(bench::format_report(r, s).c_str(), stdout);
  if (!json_path.empty()) {
    JsonWriter j;
    bench::write_json(j, r, s);
    j.save(json_path);
  }
  return kExitOk;
}

}  // namespace kiln
