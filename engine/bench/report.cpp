#include "engine/bench/report.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <numeric>

namespace kiln::bench {

std::string strprintf(const char* format, ...) {
  char buf[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

namespace {

std::string percent(double fraction) { return strprintf("%.1f%%", 100.0 * fraction); }

void add_row(std::string& out, const char* name, const Summary& s) {
  if (s.count == 0) {
    out += strprintf("  %-12s %s\n", name, "n/a");
    return;
  }
  out += strprintf("  %-12s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %7s\n", name, s.min, s.median, s.mean, s.p90,
                   s.p95, s.p99, s.max, percent(s.cv()).c_str());
}

void write_summary(JsonWriter& j, const std::string& key, const Summary& s) {
  if (s.count == 0) {
    j.value(key, std::nan(""));  // JsonWriter writes non-finite numbers as null
    return;
  }
  j.begin_object(key)
      .value("count", static_cast<std::uint64_t>(s.count))
      .value("min", s.min)
      .value("median", s.median)
      .value("mean", s.mean)
      .value("p90", s.p90)
      .value("p95", s.p95)
      .value("p99", s.p99)
      .value("max", s.max)
      .value("stddev", s.stddev)
      .value("cv", s.cv())
      .end_object();
}

}  // namespace

std::string human_bytes(std::uint64_t b) {
  if (b < 1024) return strprintf("%llu B", static_cast<unsigned long long>(b));
  if (b < (1ull << 20)) return strprintf("%.1f KiB", static_cast<double>(b) / 1024.0);
  if (b < (1ull << 30)) return strprintf("%.1f MiB", static_cast<double>(b) / 1048576.0);
  return strprintf("%.2f GiB", static_cast<double>(b) / 1073741824.0);
}

BenchSummary summarize_bench(const BenchResult& r) {
  BenchSummary s;
  s.latency = summarize(r.samples.latency);
  s.enqueue = summarize(r.samples.enqueue);
  s.h2d = summarize(r.samples.h2d);
  s.compute = summarize(r.samples.compute);
  s.d2h = summarize(r.samples.d2h);
  const bool gpu = s.compute.count > 0;
  const Summary& timed = gpu ? s.compute : s.latency;
  if (r.wall_s > 0) {
    s.throughput_qps = static_cast<double>(s.latency.count) / r.wall_s;
    s.images_per_s = s.throughput_qps * static_cast<double>(r.config.batch);
    s.enqueue_share = std::accumulate(r.samples.enqueue.begin(), r.samples.enqueue.end(), 0.0) / (r.wall_s * 1e3);
    for (const DeviceShare& d : r.devices) s.device_qps.push_back(static_cast<double>(d.iterations) / r.wall_s);
  }
  if (timed.median > 0) s.tflops = r.flops_per_batch / (timed.median * 1e-3) / 1e12;

  const char* what = gpu ? "GPU compute time" : "latency";
  if (timed.count > 1 && timed.cv() > kCvWarnFraction) {
    s.warnings.push_back(
        strprintf("%s varies between iterations: coefficient of variation %s (warned above %s). "
                  "Another process on the device, clock changes or a short warm-up can cause this; "
                  "try a longer --warmup-ms or --duration-s.",
                  what, percent(timed.cv()).c_str(), percent(kCvWarnFraction).c_str()));
  }
  if (gpu && s.enqueue_share >= kEnqueueBoundFraction) {
    std::string w = strprintf(
        "throughput is bound by enqueue time, not GPU compute: the host spent %s of the run submitting "
        "work (median enqueue %.4f ms, median GPU compute %.4f ms), so the GPU waits for it",
        percent(s.enqueue_share).c_str(), s.enqueue.median, s.compute.median);
    w += r.config.cuda_graph ? "; a larger --batch or more --streams give it more work per submission."
                             : "; --cuda-graph submits a whole run in one call.";
    s.warnings.push_back(w);
  }
  if (timed.count > 0 && timed.count < kTailIterations) {
    s.warnings.push_back(
        strprintf("only %zu measured iterations: p99 is little more than the maximum; use --iterations %zu "
                  "or more for tail latency.",
                  timed.count, kTailIterations));
  }
  return s;
}

std::string format_report(const BenchResult& r, const BenchSummary& s) {
  const BenchConfig& c = r.config;
  const bool gpu = c.device == "gpu";
  std::string out;
  out += strprintf("=== kiln bench: %s%s, batch %lld ===\n", c.model.c_str(),
                   c.model_name.empty() ? "" : (" (" + c.model_name + ")").c_str(), static_cast<long long>(c.batch));
  out += "device: " + r.device_description + "\n";
  if (gpu) {
    out += strprintf("mode: %s, %s algorithms, %lld stream(s), %s, %s\n", c.precision.c_str(), c.algo.c_str(),
                     static_cast<long long>(c.streams), c.cuda_graph ? "CUDA graph replay" : "layer by layer launches",
                     c.transfers ? "with host<->device transfers" : "no transfers (device buffers in and out)");
  }
  out += "inputs: " + (c.input_file.empty() ? std::string("random uniform [-1, 1]") : c.input_file) +
         (r.input_shapes.empty() ? std::string() : ", shape " + r.input_shapes) + "\n";
  const LoadSplit& l = r.load;
  out += strprintf("\nstart-up: %.1f ms to the first result = parse %.1f + upload %.1f + algorithm selection %.1f",
                   l.to_first_result_ms(), l.parse_ms, l.upload_ms, l.select_ms);
  if (l.other_ms > 0) out += strprintf(" + other load %.1f", l.other_ms);
  out += strprintf(" + context %.1f + first inference %.1f ms", l.context_ms, l.first_inference_ms);
  if (l.shape_build_ms > 0) out += strprintf(" (this input size built in %.1f ms of the context's)", l.shape_build_ms);
  out += "\n";
  if (gpu) {
    out += strprintf("          CUDA init before the load %.1f ms", l.cuda_init_ms);
    if (c.cuda_graph) out += strprintf("; CUDA graph capture after the first result %.1f ms", l.graph_capture_ms);
    out += "\n";
  }
  const PlanCacheReport& pc = r.plan_cache;
  if (pc.known) {
    out += strprintf("plan cache: %s: %lld hit(s), %lld miss(es), %lld rejected, %lld written",
                     pc.directory.empty() ? "memory only" : pc.directory.c_str(), static_cast<long long>(pc.hits),
                     static_cast<long long>(pc.misses), static_cast<long long>(pc.rejected),
                     static_cast<long long>(pc.written));
    if (pc.write_failures > 0) out += strprintf(", %lld not written", static_cast<long long>(pc.write_failures));
    out += "\n";
    if (!pc.problem.empty()) out += "  first problem: " + pc.problem + "\n";
  }
  const MemorySplit& m = r.memory;
  if (m.known) {
    out += strprintf("device memory: weights %s, activation arena %s, workspace %s", human_bytes(m.weights).c_str(),
                     human_bytes(m.arena).c_str(), human_bytes(m.workspace).c_str());
    if (m.contexts > 1) out += strprintf(" (arena and workspace x%lld contexts)", static_cast<long long>(m.contexts));
    out += strprintf(", bench I/O buffers %s; peak in use %s (cudaMemGetInfo, above the level after CUDA init)\n",
                     human_bytes(m.io_buffers).c_str(), human_bytes(m.peak).c_str());
  }
  out += strprintf("\nrun: %zu iterations in %.3f s after %lld warm-up iterations (%.0f ms)\n", s.latency.count,
                   r.wall_s, static_cast<long long>(r.warmup_iterations), c.warmup_ms);
  out += strprintf("throughput: %.2f qps, %.1f images/s", s.throughput_qps, s.images_per_s);
  if (s.tflops > 0) {
    out += s.tflops >= 0.1 ? strprintf(", %.2f TFLOP/s", s.tflops) : strprintf(", %.2f GFLOP/s", s.tflops * 1e3);
    out += strprintf(" (%.3g GFLOP per batch over the median %s)", r.flops_per_batch / 1e9,
                     gpu ? "GPU compute" : "latency");
  }
  out += "\n";
  for (std::size_t i = 0; i < r.devices.size() && i < s.device_qps.size(); ++i) {
    const DeviceShare& d = r.devices[i];
    out += strprintf("  %s: %.2f qps, %.1f images/s (%lld iterations)\n", d.description.c_str(), s.device_qps[i],
                     s.device_qps[i] * static_cast<double>(c.batch), static_cast<long long>(d.iterations));
  }
  out += "\n";
  out += strprintf("  %-12s %9s %9s %9s %9s %9s %9s %9s %7s\n", "(ms)", "min", "median", "mean", "p90", "p95", "p99",
                   "max", "cv");
  add_row(out, "latency", s.latency);
  if (gpu) {
    add_row(out, "enqueue", s.enqueue);
    add_row(out, "H2D", s.h2d);
    add_row(out, "GPU compute", s.compute);
    add_row(out, "D2H", s.d2h);
    out +=
        "latency = H2D + GPU compute + D2H of one iteration on the GPU timeline (CUDA events);\n"
        "enqueue = host time to submit one iteration; GPU compute includes copying the inputs into the\n"
        "activation arena and the outputs out of it.\n";
  } else {
    out += "latency = host wall time of one run on the CPU reference path.\n";
  }
  for (const std::string& w : s.warnings) out += "warning: " + w + "\n";
  return out;
}

void write_json(JsonWriter& j, const BenchResult& r, const BenchSummary& s) {
  const BenchConfig& c = r.config;
  j.begin_object().value("tool", "kiln bench").value("model", c.model).value("model_name", c.model_name);
  j.value("device", c.device).value("device_description", r.device_description);
  j.value("precision", c.precision).value("fp32_layers", c.fp32_layers).value("algo", c.algo).value("batch", c.batch);
  j.value("streams", c.streams);
  j.value("cuda_graph", c.cuda_graph).value("transfers", c.transfers).value("input_file", c.input_file);
  j.value("input_shapes", r.input_shapes);
  j.value("warmup_ms", c.warmup_ms).value("warmup_iterations", r.warmup_iterations);
  j.value("iterations", static_cast<std::uint64_t>(s.latency.count)).value("wall_s", r.wall_s);
  j.value("throughput_qps", s.throughput_qps).value("images_per_s", s.images_per_s);
  j.value("flops_per_batch", r.flops_per_batch).value("tflops", s.tflops).value("enqueue_share", s.enqueue_share);
  j.begin_array("devices");
  for (std::size_t i = 0; i < r.devices.size(); ++i) {
    const double qps = i < s.device_qps.size() ? s.device_qps[i] : 0.0;
    j.begin_object()
        .value("device", static_cast<std::int64_t>(r.devices[i].device))
        .value("description", r.devices[i].description)
        .value("iterations", r.devices[i].iterations)
        .value("throughput_qps", qps)
        .value("images_per_s", qps * static_cast<double>(c.batch))
        .end_object();
  }
  j.end_array();
  const LoadSplit& l = r.load;
  j.begin_object("load")
      .value("cuda_init_ms", l.cuda_init_ms)
      .value("parse_ms", l.parse_ms)
      .value("upload_ms", l.upload_ms)
      .value("select_ms", l.select_ms)
      .value("other_ms", l.other_ms)
      .value("context_ms", l.context_ms)
      .value("first_inference_ms", l.first_inference_ms)
      .value("graph_capture_ms", l.graph_capture_ms)
      .value("shape_build_ms", l.shape_build_ms)
      .value("to_first_result_ms", l.to_first_result_ms())
      .end_object();
  const PlanCacheReport& pc = r.plan_cache;
  if (pc.known) {
    j.begin_object("plan_cache")
        .value("directory", pc.directory)
        .value("hits", pc.hits)
        .value("misses", pc.misses)
        .value("rejected", pc.rejected)
        .value("written", pc.written)
        .value("write_failures", pc.write_failures)
        .value("problem", pc.problem)
        .end_object();
  } else {
    j.value("plan_cache", std::nan(""));
  }
  const MemorySplit& m = r.memory;
  if (m.known) {
    j.begin_object("memory")
        .value("weights_bytes", m.weights)
        .value("arena_bytes", m.arena)
        .value("workspace_bytes", m.workspace)
        .value("contexts", m.contexts)
        .value("io_buffer_bytes", m.io_buffers)
        .value("peak_bytes", m.peak)
        .value("extra_over_weights_bytes", m.extra_over_weights())
        .end_object();
  } else {
    j.value("memory", std::nan(""));
  }
  j.begin_object("ms");
  write_summary(j, "latency", s.latency);
  write_summary(j, "enqueue", s.enqueue);
  write_summary(j, "h2d", s.h2d);
  write_summary(j, "compute", s.compute);
  write_summary(j, "d2h", s.d2h);
  j.end_object();
  j.begin_array("warnings");
  for (const std::string& w : s.warnings) j.value("", w);
  j.end_array().end_object();
}

}  // namespace kiln::bench
