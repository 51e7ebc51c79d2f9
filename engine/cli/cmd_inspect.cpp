#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "base/errors.h"
#include "engine/bench/report.h"
#include "engine/cli/commands.h"
#include "engine/cli/device_options.h"
#include "engine/layer_info.h"
#include "engine/cli/options.h"
#include "engine/cli/path_checks.h"
#include "engine/cli/text_table.h"
#include "engine/gpu/engine.h"
#include "engine/model_dir.h"
#include "engine/runner.h"

namespace kiln {

namespace {

using bench::human_bytes;

struct InspectCommandOptions {
  RunnerOptions runner;
  CLI::Option* json = nullptr;  // given without FILE: JSON on stdout instead of the text
  std::string json_path;
};

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string gflop(double flops) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", flops / 1e9);
  return buf;
}

// The columns every device shows: "#", layer, op, inputs, output, attributes, weights, params, GFLOP.
std::vector<std::string> common_cells(const Graph& g, std::size_t i) {
  const Layer& l = *g.layers()[i];
  const std::uint64_t params = layer_parameters(g, i);
  return {std::to_string(i),
          l.name(),
          l.op(),
          joined(l.input_names()),
          shape_to_string(l.output_shape()),
          attributes_text(g.spec().layers[i].attributes),
          weights_text(layer_weights(g, i)),
          params ? std::to_string(params) : "",
          gflop(l.flops_per_sample() * static_cast<double>(g.max_batch()))};
}

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

const std::vector<std::string> kCommonHeader = {"#",          "layer",   "op",     "inputs", "output",
                                                "attributes", "weights", "params", "GFLOP"};

// "x [1,3,224,224], y [1,10]"
std::string tensor_list(const Graph& g, const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) {
    const GraphTensor& t = g.tensors()[static_cast<std::size_t>(id)];
    s += (s.empty() ? "" : ", ") + t.name + " " + shape_to_string(t.shape);
  }
  return s;
}

void print_header(const Graph& g, const std::string& device) {
  std::uint64_t weight_bytes = 0;
  for (const TensorEntry& e : g.manifest().tensors) weight_bytes += e.nbytes;
  std::printf("model: %s%s, batch %lld\ndevice: %s\n", g.spec().path.c_str(),
              g.spec().name.empty() ? "" : (" (" + g.spec().name + ")").c_str(), static_cast<long long>(g.max_batch()),
              device.c_str());
  std::printf("weights: %zu tensors, %s parameters, %s (%s)\n", g.manifest().tensors.size(),
              with_thousands(parameter_count(g)).c_str(), human_bytes(weight_bytes).c_str(),
              g.manifest().path.c_str());
  std::printf("inputs: %s\n", tensor_list(g, g.input_tensors()).c_str());
  for (const InputSpec& in : g.spec().inputs) {
    if (!in.dynamic_hw()) continue;
    // The shapes shown are the range's largest, which the memory plan is made for.
    std::printf("  %s: any height x width in %lldx%lld..%lldx%lld (shapes below at the largest; exported at %lldx%lld)\n",
                in.name.c_str(), static_cast<long long>(in.min_hw[0]), static_cast<long long>(in.min_hw[1]),
                static_cast<long long>(in.max_hw[0]), static_cast<long long>(in.max_hw[1]),
                static_cast<long long>(in.shape[2]), static_cast<long long>(in.shape[3]));
  }
  std::printf("\n");
}

void print_outputs(const Graph& g) {
  std::printf("\noutputs: %s\n", tensor_list(g, g.output_tensors()).c_str());
  double flops = 0;
  for (const auto& l : g.layers()) flops += l->flops_per_sample() * static_cast<double>(g.max_batch());
  std::printf("compute: %.3f GFLOP per batch\n", flops / 1e9);
}

Json memory_json(const MemoryPlan& plan) {
  return {{"arena_bytes", plan.arena_bytes},
          {"sum_bytes", plan.sum_bytes},
          {"peak_live_bytes", plan.peak_live_bytes},
          {"strategy", plan.strategy}};
}

// JSON on stdout when --json came without FILE; else text on stdout and JSON into FILE if given.
bool json_only(const InspectCommandOptions& o) { return o.json->count() > 0 && o.json_path.empty(); }

void emit_json(const InspectCommandOptions& o, const Json& j) {
  if (json_only(o))
    std::fputs(json_text(j).c_str(), stdout);
  else if (!o.json_path.empty())
    save_json(o.json_path, j);
}

// The GPU view: every layer's implementation and workspace, the GPU plan (fusion changes it) and the
// device memory split.
int inspect_gpu(const InspectCommandOptions& o) {
  const auto engine = load_gpu_engine(o.runner);
  const Graph& g = engine->graph();
  const auto& reports = engine->layer_reports();
  const MemoryPlan& plan = engine->memory_plan();
  Json j = model_json(g, engine->device_description());
  for (std::size_t i = 0; i < reports.size(); ++i) {
    j["layers"][i]["implementation"] = reports[i].implementation;
    j["layers"][i]["workspace_bytes"] = reports[i].workspace_bytes;
  }
  j["memory"] = memory_json(plan);
  j["memory"]["weights_bytes"] = engine->weight_bytes();
  j["memory"]["workspace_bytes"] = engine->workspace_bytes();
  emit_json(o, j);
  if (json_only(o)) return kExitOk;

  print_header(g, engine->device_description());
  cli::TextTable table(with(kCommonHeader, {"workspace", "implementation"}));
  for (std::size_t i = 0; i < reports.size(); ++i) {
    table.add_row(with(common_cells(g, i), {human_bytes(reports[i].workspace_bytes), reports[i].implementation}));
  }
  std::fputs(table.str().c_str(), stdout);
  print_outputs(g);
  std::printf(
      "device memory: weights %s (one allocation), activation arena %s (sum of activations %s, peak live %s),"
      " shared workspace %s\n",
      human_bytes(engine->weight_bytes()).c_str(), human_bytes(plan.arena_bytes).c_str(),
      human_bytes(plan.sum_bytes).c_str(), human_bytes(plan.peak_live_bytes).c_str(),
      human_bytes(engine->workspace_bytes()).c_str());
  return kExitOk;
}

int inspect_cpu(const InspectCommandOptions& o) {
  const Graph g = load_graph(o.runner.model, GraphBuildOptions{o.runner.max_batch, 256, {}});
  const MemoryPlan& plan = g.plan();
  const char* device = "cpu (reference path)";
  Json j = model_json(g, device);
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    const int t = g.output_tensor_of(static_cast<int>(i));
    j["layers"][i]["arena_offset"] = plan.offsets[t];
    j["layers"][i]["bytes"] = g.tensors()[t].bytes;
    j["layers"][i]["storage"] = g.layers()[i]->is_view() ? "view" : plan.in_place_taken[t] ? "in place" : "own";
  }
  j["memory"] = memory_json(plan);
  emit_json(o, j);
  if (json_only(o)) return kExitOk;

  print_header(g, device);
  cli::TextTable table(with(kCommonHeader, {"arena offset", "size"}));
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    const int t = g.output_tensor_of(static_cast<int>(i));
    std::string where = std::to_string(plan.offsets[t]);
    if (g.layers()[i]->is_view())
      where += " (view)";
    else if (plan.in_place_taken[t])
      where += " (in place)";
    table.add_row(with(common_cells(g, i), {where, human_bytes(g.tensors()[t].bytes)}));
  }
  std::fputs(table.str().c_str(), stdout);
  print_outputs(g);
  std::printf(
      "activation arena: %s for %s of activations (%.1f%%; peak live %s is the lower bound), strategy %s\n",
      human_bytes(plan.arena_bytes).c_str(), human_bytes(plan.sum_bytes).c_str(),
      plan.sum_bytes ? 100.0 * static_cast<double>(plan.arena_bytes) / static_cast<double>(plan.sum_bytes) : 0.0,
      human_bytes(plan.peak_live_bytes).c_str(), plan.strategy.c_str());
  std::printf("workspace: 0 B on the CPU reference path\n");
  return kExitOk;
}

int inspect_command(InspectCommandOptions& o) {
  o.runner.device = resolve_device(o.runner.device);
  return o.runner.device == "gpu" ? inspect_gpu(o) : inspect_cpu(o);
}

}  // namespace

Command add_inspect_command(CLI::App& tool) {
  auto o = std::make_shared<InspectCommandOptions>();
  o->runner.device = "cpu";
  CLI::App* cmd = cli::add_command(
      tool, "inspect", "print the layers, shapes, attributes, weights and the activation memory plan",
      "Prints every layer with its inputs, output shape, attributes (as model.yaml writes them), weights\n"
      "(shape and dtype), parameter count and place in the activation arena, then the memory plan: the\n"
      "arena against the sum of all activations (what no reuse would need) and against the peak of live\n"
      "activations (a lower bound). With --device gpu, loads the model on the GPU and also shows how each\n"
      "layer runs there (cuDNN engine, fusion, kernel) and its workspace. --json prints all of it as JSON\n"
      "instead (shapes as arrays); --json FILE writes the JSON into FILE and prints the text.");
  add_model_option(*cmd, o->runner.model);
  cli::add_int(*cmd, "--batch", "N", o->runner.max_batch, "plan for this batch (0 = the model's)");
  add_device_options(*cmd, o->runner);
  o->json = cli::add_string(*cmd, "--json", "[FILE]", o->json_path, "JSON on stdout instead of the text, or into FILE")
                ->expected(0, 1)
                ->check(cli::writable_output_path());
  return Command{cmd, [o] { return inspect_command(*o); }};
}

}  // namespace kiln
