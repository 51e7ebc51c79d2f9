#include <cuda_runtime_api.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "base/errors.h"
#include "engine/bench/bench.h"
#include "engine/bench/profile_report.h"
#include "engine/cli/bench_options.h"
#include "engine/cli/commands.h"
#include "engine/cli/options.h"
#include "engine/cli/path_checks.h"
#include "engine/gpu/check.h"
#include "engine/gpu/context.h"
#include "engine/gpu/memory.h"

namespace kiln {

namespace {

// Device copies of the inputs and room for the outputs, for run_device.
struct DeviceIo {
  std::vector<gpu::DeviceBuffer> buffers;
  std::vector<const float*> in;
  std::vector<float*> out;
};

DeviceIo make_io(gpu::ExecutionContext& ctx, const std::vector<HostTensor>& inputs) {
  DeviceIo io;
  for (const HostTensor& t : inputs) {
    io.buffers.emplace_back(t.data.size() * sizeof(float), "profile input buffer");
    KILN_CUDA_CHECK(
        cudaMemcpy(io.buffers.back().data(), t.data.data(), io.buffers.back().size(), cudaMemcpyHostToDevice));
    io.in.push_back(io.buffers.back().as<float>());
  }
  for (const Shape& s : ctx.output_shapes(bench::shapes_of(inputs))) {
    io.buffers.emplace_back(element_count(s) * sizeof(float), "profile output buffer");
    io.out.push_back(io.buffers.back().as<float>());
  }
  return io;
}

struct ProfileCommandOptions {
  BenchCliOptions bench;
  std::string json_path, sort = "time";
  std::int64_t top = 0;
  double peak_tflops = 0, peak_gbps = 0;  // 0: the device's known figures
};

int profile_command(ProfileCommandOptions& o) {
  bench::BenchConfig& c = o.bench.config;
  if (o.top < 0) throw UsageError("--top: expected 0 (all) or more, got " + std::to_string(o.top));
  if (o.peak_tflops < 0 || o.peak_gbps < 0) throw UsageError("--peak-tflops / --peak-gbps: expected a positive figure");
  resolve_bench_options(o.bench, true);

  const gpu::GpuEngineOptions eo = gpu::engine_options_from(c.precision, c.algo, o.bench.workspace_mb, c.plan_cache, c.fp32_layers);
  GraphBuildOptions go;
  go.max_batch = c.batch;
  const auto engine = gpu::GpuEngine::load(c.model, eo, go);
  gpu::ExecutionContext ctx(engine);
  const std::vector<HostTensor> inputs = bench::bench_inputs(engine->graph(), c);
  const std::vector<Shape> shapes = bench::shapes_of(inputs);
  // The layers as this size computes them (a dynamic model at a size not its largest: that size's graph).
  const std::shared_ptr<const Graph> run_graph = bench::run_graph(engine->graph(), inputs);
  const Graph& g = *run_graph;
  const DeviceIo io = make_io(ctx, inputs);
  ctx.prepare(shapes);

  auto t = bench::Clock::now();
  do {
    ctx.run_device(io.in, io.out, shapes);
    ctx.synchronize();
  } while (bench::ms_since(t) < c.warmup_ms);

  bench::ProfileResult r;
  r.model = c.model;
  r.model_name = g.spec().name;
  r.device_description = engine->device_description();
  r.precision = c.precision;
  r.algo = c.algo;
  r.batch = c.batch;
  r.peaks = bench::known_peaks(r.device_description, c.precision);
  if (o.peak_tflops > 0 || o.peak_gbps > 0) {
    if (o.peak_tflops > 0) r.peaks.tflops = o.peak_tflops;
    if (o.peak_gbps > 0) r.peaks.gbps = o.peak_gbps;
    r.peaks.source = "given";
  }
  const gpu::Event start = gpu::make_event();
  const gpu::Event stop = gpu::make_event();
  std::vector<double> whole;
  bench::MeasureLoop timed(c, "timed runs");
  timed.start();
  while (timed.more(static_cast<std::int64_t>(whole.size()))) {
    KILN_CUDA_CHECK(cudaEventRecord(start.get(), ctx.stream()));
    ctx.run_device(io.in, io.out, shapes);
    KILN_CUDA_CHECK(cudaEventRecord(stop.get(), ctx.stream()));
    KILN_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0;
    KILN_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    whole.push_back(ms);
  }
  timed.finish();
  r.timed_runs = static_cast<std::int64_t>(whole.size());
  r.timed_run_ms = bench::median(whole);

  const std::size_t layers = g.layers().size();
  std::vector<std::vector<double>> per_layer(layers);
  std::vector<double> in_copy, out_copy, total;
  std::vector<bool> ran(layers, false);
  bench::MeasureLoop profiled(c, "profiled runs");
  profiled.start();
  while (profiled.more(static_cast<std::int64_t>(total.size()))) {
    const gpu::ProfiledRun run = ctx.run_device_profiled(io.in, io.out, shapes);
    for (std::size_t i = 0; i < layers; ++i) per_layer[i].push_back(run.layer_ms[i]);
    ran = run.ran;
    in_copy.push_back(run.input_copy_ms);
    out_copy.push_back(run.output_copy_ms);
    total.push_back(run.total_ms);
  }
  profiled.finish();
  r.runs = static_cast<std::int64_t>(total.size());
  r.input_copy_ms = bench::median(in_copy);
  r.output_copy_ms = bench::median(out_copy);
  r.profiled_total_ms = bench::median(total);
  const auto& reports = engine->layer_reports();
  for (std::size_t i = 0; i < layers; ++i) {
    bench::LayerProfile l;
    l.index = static_cast<int>(i);
    l.name = reports[i].name;
    l.op = reports[i].op;
    l.implementation = reports[i].implementation;
    l.workspace_bytes = reports[i].workspace_bytes;
    l.ran = ran[i];
    l.ms = bench::median(per_layer[i]);
    l.flops = g.layers()[i]->flops_per_sample() * static_cast<double>(c.batch);
    // Each layer's own storage: a float32 layer of a mixed fp16 engine moves 4-byte elements.
    const double element_bytes = engine->layer_precision(static_cast<int>(i)) == gpu::Precision::Fp16 ? 2.0 : 4.0;
    l.bytes = bench::layer_bytes(g, static_cast<int>(i), c.batch, element_bytes);
    r.layers.push_back(std::move(l));
  }
  std::fputs(bench::format_profile(r, o.sort == "time" ? bench::ProfileSort::Time : bench::ProfileSort::Order,
                                   static_cast<std::size_t>(o.top))
                 .c_str(),
             stdout);
  if (!o.json_path.empty()) {
    JsonWriter j;
    bench::write_profile_json(j, r);
    j.save(o.json_path);
  }
  return kExitOk;
}

}  // namespace

Command add_profile_command(CLI::App& tool) {
  auto o = std::make_shared<ProfileCommandOptions>();
  bench::BenchConfig& c = o->bench.config;
  CLI::App* cmd = cli::add_command(
      tool, "profile", "time every layer on the GPU with CUDA events, slowest first",
      "Times every layer on the GPU with CUDA events recorded between layers, in runs separate from an\n"
      "undisturbed timed run of the whole network (the events add a little time, so the layer sum can\n"
      "exceed it slightly). Prints the layers slowest first with their median time, share of the sum,\n"
      "achieved TFLOP/s and GB/s (inputs, output and weights counted once), its floor (the longer of its\n"
      "FLOPs at the device's measured arithmetic peak and its bytes at its measured bandwidth; known for\n"
      "H100 and H200, else --peak-tflops/--peak-gbps) and time over floor, workspace and the chosen\n"
      "implementation (cuDNN engine, fusion, kernel). Needs a GPU.");
  c.iterations = 50;
  c.duration_s = 0;
  add_bench_options(*cmd, o->bench, "timed runs, then as many profiled runs; times are medians");
  cli::add_choice(*cmd, "--sort", {"time", "order"}, o->sort, "list layers slowest first or in execution order");
  cli::add_int(*cmd, "--top", "N", o->top, "show only the N slowest layers (0 = all)");
  cli::add_double(*cmd, "--peak-tflops", "T", o->peak_tflops,
                  "arithmetic peak for the floor column (default: the device's measured figure)");
  cli::add_double(*cmd, "--peak-gbps", "G", o->peak_gbps, "memory bandwidth for the floor column");
  cli::add_string(*cmd, "--json", "FILE", o->json_path, "also write every layer's figures as JSON")
      ->check(cli::writable_output_path());
  return Command{cmd, [o] { return profile_command(*o); }};
}

}  // namespace kiln
