#include <cstdio>

#include "engine/cli/commands.h"
#include "engine/cli/options.h"
#include "engine/cli/device_options.h"
#include "engine/runner.h"
#include "base/errors.h"
#include "engine/gpu/engine.h"
#include "engine/model_dir.h"

namespace kiln {

namespace {

std::string human_bytes(std::uint64_t b) {
  char buf[32];
  if (b < 1024) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else if (b < (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else if (b < (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
  else std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
  return buf;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// The GPU view: every layer's implementation and workspace, the GPU plan (fusion changes it) and the
// device memory split.
int inspect_gpu(const RunnerOptions& ro) {
  std::string why_not;
  if (!gpu_available(&why_not)) throw UsageError("--device gpu: no usable GPU: " + why_not);
  const auto engine = load_gpu_engine(ro);
  const Graph& g = engine->graph();
  std::printf("model: %s, batch %lld\ndevice: %s\n\n", g.spec().path.c_str(), static_cast<long long>(g.max_batch()),
              engine->device_description().c_str());
  std::printf("%-4s %-28s %-17s %-18s %-12s %s\n", "#", "layer", "op", "output", "workspace", "implementation");
  const auto& reports = engine->layer_reports();
  for (std::size_t i = 0; i < reports.size(); ++i) {
    std::printf("%-4zu %-28s %-17s %-18s %-12s %s\n", i, reports[i].name.c_str(), reports[i].op.c_str(),
                shape_to_string(g.layers()[i]->output_shape()).c_str(), human_bytes(reports[i].workspace_bytes).c_str(),
                reports[i].implementation.c_str());
  }
  const MemoryPlan& plan = engine->memory_plan();
  std::printf("\ndevice memory: weights %s (one allocation), activation arena %s (sum of activations %s, peak live %s),"
              " shared workspace %s\n",
              human_bytes(engine->weight_bytes()).c_str(), human_bytes(plan.arena_bytes).c_str(),
              human_bytes(plan.sum_bytes).c_str(), human_bytes(plan.peak_live_bytes).c_str(),
              human_bytes(engine->workspace_bytes()).c_str());
  return 0;
}

}  // namespace

int cmd_inspect(int argc, char** argv) {
  RunnerOptions ro;
  ro.device = "cpu";
  OptionParser p("kiln inspect --model DIR [options]",
                 "Prints every layer with its inputs, output shape, weights and place in the activation arena,\n"
                 "then the memory plan: the arena against the sum of all activations (what no reuse would\n"
                 "need) and against the peak of live activations (a lower bound). With --device gpu, loads the\n"
                 "model on the GPU and also shows how each layer runs there (cuDNN engine, fusion, kernel) and\n"
                 "its workspace.");
  p.add_string("model", "DIR", "model folder (or its model.yaml)", &ro.model, true);
  p.add_int("batch", "N", "plan for this batch (0 = the model's)", &ro.max_batch);
  add_device_options(p, ro);
  if (!p.parse(argc, argv, 2)) return 0;
  if (ro.device == "auto") {
    std::string why_not;
    ro.device = gpu_available(&why_not) ? "gpu" : "cpu";
  }
  if (ro.device == "gpu") return inspect_gpu(ro);

  const Graph g = load_graph(ro.model, GraphBuildOptions{ro.max_batch, 256});
  std::uint64_t weight_bytes = 0;
  for (const TensorEntry& e : g.manifest().tensors) weight_bytes += e.nbytes;
  std::printf("model: %s%s, batch %lld\n", g.spec().path.c_str(),
              g.spec().name.empty() ? "" : (" (" + g.spec().name + ")").c_str(), static_cast<long long>(g.max_batch()));
  std::printf("weights: %zu tensors, %s (%s)\n\n", g.manifest().tensors.size(), human_bytes(weight_bytes).c_str(),
              g.manifest().path.c_str());
  std::printf("%-4s %-28s %-17s %-24s %-18s %-10s %-12s %s\n", "#", "layer", "op", "inputs", "output", "GFLOP",
              "arena offset", "size");
  const MemoryPlan& plan = g.plan();
  double total_flops = 0;
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    const Layer& l = *g.layers()[i];
    const int t = g.output_tensor_of(static_cast<int>(i));
    const double flops = l.flops_per_sample() * static_cast<double>(g.max_batch());
    total_flops += flops;
    std::string where = std::to_string(plan.offsets[t]);
    if (l.is_view()) where += " (view)";
    else if (plan.in_place_taken[t]) where += " (in place)";
    std::printf("%-4zu %-28s %-17s %-24s %-18s %-10.3f %-12s %s\n", i, l.name().c_str(), l.op().c_str(),
                joined(l.input_names()).c_str(), shape_to_string(l.output_shape()).c_str(), flops / 1e9, where.c_str(),
                human_bytes(g.tensors()[t].bytes).c_str());
  }
  std::printf("\noutputs: ");
  for (int t : g.output_tensors()) std::printf("%s %s  ", g.tensors()[t].name.c_str(), shape_to_string(g.tensors()[t].shape).c_str());
  std::printf("\ncompute: %.3f GFLOP per batch\n", total_flops / 1e9);
  std::printf("activation arena: %s for %s of activations (%.1f%%; peak live %s is the lower bound), strategy %s\n",
              human_bytes(plan.arena_bytes).c_str(), human_bytes(plan.sum_bytes).c_str(),
              plan.sum_bytes ? 100.0 * static_cast<double>(plan.arena_bytes) / static_cast<double>(plan.sum_bytes) : 0.0,
              human_bytes(plan.peak_live_bytes).c_str(), plan.strategy.c_str());
  std::printf("workspace: 0 B on the CPU reference path\n");
  return 0;
}

}  // namespace kiln
