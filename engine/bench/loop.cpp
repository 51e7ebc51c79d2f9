#include <unistd.h>

#include <cstdio>
#include <random>

#include "engine/bench/bench.h"
#include "base/errors.h"

namespace kiln::bench {

namespace {
constexpr double kProgressAfterS = 2.0;
}  // namespace

void check_config(const BenchConfig& c) {
  if (c.batch < 1) throw UsageError("--batch: expected at least 1, got " + std::to_string(c.batch));
  if (c.iterations < 1) throw UsageError("--iterations: expected at least 1, got " + std::to_string(c.iterations));
  if (!(c.warmup_ms >= 0)) throw UsageError("--warmup-ms: expected a time >= 0, got " + std::to_string(c.warmup_ms));
  if (!(c.duration_s >= 0)) throw UsageError("--duration-s: expected a time >= 0, got " + std::to_string(c.duration_s));
  if (c.streams < 1 || c.streams > 64) {
    throw UsageError("--streams: expected 1 to 64, got " + std::to_string(c.streams));
  }
}

std::vector<HostTensor> bench_inputs(const Graph& graph, std::int64_t batch, const std::string& file) {
  std::vector<HostTensor> out;
  if (file.empty()) {
    std::mt19937 rng(20261121);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (int id : graph.input_tensors()) {
      const GraphTensor& t = graph.tensors()[static_cast<std::size_t>(id)];
      HostTensor h{t.name, Layer::at_batch(t.shape, batch), {}};
      h.data.resize(element_count(h.shape));
      for (float& v : h.data) v = uniform(rng);
      out.push_back(std::move(h));
    }
    return out;
  }
  std::vector<HostTensor> found = read_host_tensors(file);
  for (int id : graph.input_tensors()) {
    const GraphTensor& t = graph.tensors()[static_cast<std::size_t>(id)];
    const Shape want = Layer::at_batch(t.shape, batch);
    std::size_t k = 0;
    while (k < found.size() && found[k].name != t.name) ++k;
    if (k == found.size()) {
      std::string have;
      for (const HostTensor& h : found) have += (have.empty() ? "" : ", ") + h.name;
      throw UsageError(file + ": no tensor named '" + t.name + "' for the model input of that name (it holds: " +
                       (have.empty() ? std::string("nothing") : have) + ")");
    }
    if (found[k].shape != want) {
      throw UsageError(file + ": tensor '" + t.name + "' has shape " + shape_to_string(found[k].shape) +
                       ", the model input at batch " + std::to_string(batch) + " is " + shape_to_string(want) +
                       " (pass --batch " + std::to_string(found[k].shape.empty() ? 1 : found[k].shape[0]) +
                       " or write the file at this batch)");
    }
    out.push_back(std::move(found[k]));
  }
  return out;
}

double graph_flops(const Graph& graph, std::int64_t batch) {
  double total = 0;
  for (const auto& layer : graph.layers()) total += layer->flops_per_sample();
  return total * static_cast<double>(batch);
}

MeasureLoop::MeasureLoop(const BenchConfig& config, const char* what)
    : iterations_(config.iterations), duration_s_(config.duration_s), what_(what), tty_(isatty(2) != 0) {}

void MeasureLoop::start() {
  start_ = Clock::now();
  last_print_s_ = 0;
}

bool MeasureLoop::more(std::int64_t done) {
  const double elapsed = ms_since(start_) / 1e3;
  const bool go_on = done < iterations_ || elapsed < duration_s_;
  const double every = tty_ ? 1.0 : 10.0;
  if (go_on && elapsed >= kProgressAfterS && elapsed - last_print_s_ >= every) {
    last_print_s_ = elapsed;
    std::fprintf(stderr, "%s[kiln] %s: %.0f s, %lld iterations (%.1f/s); runs at least %.0f s and %lld iterations%s",
                 tty_ ? "\r" : "", what_, elapsed, static_cast<long long>(done), static_cast<double>(done) / elapsed,
                 duration_s_, static_cast<long long>(iterations_), tty_ ? "   " : "\n");
    std::fflush(stderr);
    printed_ = true;
  }
  return go_on;
}

double MeasureLoop::finish() {
  if (printed_ && tty_) std::fputc('\n', stderr);
  printed_ = false;
  return ms_since(start_) / 1e3;
}

}  // namespace kiln::bench
