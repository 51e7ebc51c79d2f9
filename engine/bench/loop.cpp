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
  if (c.devices.size() > 16) {
    throw UsageError("--devices: at most 16 devices, got " + std::to_string(c.devices.size()));
  }
  for (const int d : c.devices) {
    if (d < 0) throw UsageError("--devices: expected device numbers >= 0, got " + std::to_string(d));
  }
  if (!c.devices.empty() && c.device == "cpu") {
    throw UsageError("--devices needs the GPU path (--device gpu, or auto on a machine with a GPU)");
  }
}

std::vector<HostTensor> bench_inputs(const Graph& graph, const BenchConfig& c) {
  const std::int64_t batch = c.batch;
  const std::string& file = c.input_file;
  const auto& inputs = graph.spec().inputs;
  if (!c.hw.empty() && !graph.dynamic()) {
    throw UsageError("--shape: this model's input sizes are fixed at export (export with --dynamic-hw "
                     "MINxMIN:MAXxMAX to run other sizes)");
  }
  std::vector<HostTensor> out;
  if (file.empty()) {
    std::mt19937 rng(20261121);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      Shape shape = Layer::at_batch(inputs[k].shape, batch);
      if (inputs[k].dynamic_hw() && c.hw.size() == 2) {
        shape[2] = c.hw[0];
        shape[3] = c.hw[1];
      }
      const std::string problem = graph.input_shape_problem(k, shape);
      if (!problem.empty()) throw UsageError("--shape: " + problem);
      HostTensor h{inputs[k].name, shape, {}};
      h.data.resize(element_count(h.shape));
      for (float& v : h.data) v = uniform(rng);
      out.push_back(std::move(h));
    }
    return out;
  }
  if (!c.hw.empty()) throw UsageError("--shape and --input: the input file's tensors give the shape; pass one of them");
  std::vector<HostTensor> found = read_host_tensors(file);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& name = inputs[i].name;
    std::size_t k = 0;
    while (k < found.size() && found[k].name != name) ++k;
    if (k == found.size()) {
      std::string have;
      for (const HostTensor& h : found) have += (have.empty() ? "" : ", ") + h.name;
      throw UsageError(file + ": no tensor named '" + name + "' for the model input of that name (it holds: " +
                       (have.empty() ? std::string("nothing") : have) + ")");
    }
    const Shape& given = found[k].shape;
    const std::string problem = graph.input_shape_problem(i, given);
    if (!problem.empty() || given[0] != batch) {
      throw UsageError(file + ": tensor '" + name + "' has shape " + shape_to_string(given) +
                       (problem.empty() ? "" : ": " + problem) +
                       (given.empty() || given[0] == batch
                            ? std::string()
                            : " (its batch is not " + std::to_string(batch) + "; pass --batch " +
                                  std::to_string(given[0]) + " or write the file at this batch)"));
    }
    out.push_back(std::move(found[k]));
  }
  return out;
}

std::vector<Shape> shapes_of(const std::vector<HostTensor>& inputs) {
  std::vector<Shape> out;
  for (const HostTensor& t : inputs) out.push_back(t.shape);
  return out;
}

std::shared_ptr<const Graph> run_graph(const Graph& graph, const std::vector<HostTensor>& inputs) {
  const std::vector<Shape> shapes = graph.run_shapes(inputs);
  if (shapes == graph.input_shapes()) return std::shared_ptr<const Graph>(std::shared_ptr<void>(), &graph);
  return std::make_shared<const Graph>(graph.at_input_shapes(shapes));
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
