#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <utility>

#include "base/errors.h"
#include "engine/cli/commands.h"
#include "engine/cli/compare_tolerance.h"
#include "engine/cli/device_options.h"
#include "engine/cli/finite_report.h"
#include "engine/cli/options.h"
#include "engine/cli/path_checks.h"
#include "engine/compare.h"
#include "engine/json_writer.h"
#include "engine/mixed_precision.h"
#include "engine/model_dir.h"
#include "engine/runner.h"

namespace kiln {

namespace {

struct CompareCommandOptions {
  RunnerOptions runner;
  std::string golden;
  CompareTolerance tol;
  bool layers = false;
  std::string json_path;
  bool no_check_finite = false;
  bool allow_extra = false;
  double max_rel_l2 = 0;  // > 0: an output whose relative L2 is above it fails too
  CLI::Option* atol = nullptr;  // to tell a given tolerance from the default
  CLI::Option* rtol = nullptr;
};

struct Row {
  std::string name;
  CompareTolerance tol;  // as applied to this tensor
  CompareStats stats;
};

// Compares `actual` with the same-named tensor of `expected`; a shape mismatch is an error.
Row compare_one(const HostTensor& actual, const std::map<std::string, const HostTensor*>& expected,
                const std::string& source, const cli::ToleranceChoice& choice) {
  auto it = expected.find(actual.name);
  if (it == expected.end()) throw UsageError(source + ": holds no tensor named '" + actual.name + "'");
  const HostTensor& e = *it->second;
  if (e.shape != actual.shape) {
    throw UsageError(source + ": tensor '" + actual.name + "' has shape " + shape_to_string(e.shape) +
                     ", kiln produced " + shape_to_string(actual.shape));
  }
  const CompareTolerance tol = choice.for_tensor(e.data.data(), e.data.size());
  return Row{actual.name, tol, compare_tensors(actual.data.data(), e.data.data(), e.data.size(), tol)};
}

Json stats_json(const Row& r) {
  const CompareStats& s = r.stats;
  return {{"atol", r.tol.atol},
          {"rtol", r.tol.rtol},
          {"count", s.count},
          {"mismatches", s.mismatches},
          {"nonfinite_mismatches", s.nonfinite_mismatches},
          {"max_abs", s.max_abs},
          {"mean_abs", s.mean_abs},
          {"median_abs", s.median_abs},
          {"max_rel", s.max_rel},
          {"mean_rel", s.mean_rel},
          {"median_rel", s.median_rel},
          {"cosine_similarity", s.cosine_similarity},
          {"relative_l2", s.relative_l2},
          {"worst_index", s.worst_index},
          {"worst_kiln", s.worst_actual},
          {"worst_pytorch", s.worst_expected},
          {"required_atol", s.required_atol},
          {"required_rtol", s.required_rtol},
          {"pass", s.pass()}};
}

std::map<std::string, const HostTensor*> by_name(const std::vector<HostTensor>& v) {
  std::map<std::string, const HostTensor*> m;
  for (const HostTensor& t : v) m[t.name] = &t;
  return m;
}

// `--fp32-layers auto`: the fewest leading layers an fp16 engine must keep in float32 for every output's
// relative L2 to be within `bound` (smallest_passing_prefix's bisection, one engine load per count
// tried). Prints each trial; returns the spec for the count found ("" for none, every layer when even
// that misses), and records the trials in `j`.
std::string search_fp32_prefix(const RunnerOptions& ro, const std::vector<HostTensor>& inputs,
                               const std::vector<HostTensor>& expected, const std::string& inputs_path,
                               const std::string& outputs_path, std::int64_t batch, double bound, bool allow_extra,
                               Json& j) {
  if (ro.device != "gpu" || ro.precision != "fp16") {
    throw UsageError("--fp32-layers auto: searches how many leading layers an fp16 GPU engine keeps in float32; it "
                     "needs --precision fp16 on the GPU (this is " + ro.precision + " on " + ro.device + ")");
  }
  const Graph graph = load_graph(ro.model, GraphBuildOptions{batch, 256, {}});
  const auto& layers = graph.layers();
  const auto expected_by_name = by_name(expected);
  const auto spec_of = [](int n) { return n > 0 ? std::to_string(n) : std::string(); };
  std::printf("searching the fewest leading float32 layers for relative L2 <= %.3g (%zu layers):\n", bound,
              layers.size());
  j["fp32_layers_search"] = Json::array();
  const auto passes = [&](int n) {
    RunnerOptions t = ro;
    t.fp32_layers = spec_of(n);
    // As the comparison after it will load: with --layers unfused, where a boundary may split what fusion joins.
    auto runner = make_runner(t);
    const RunResult r = runner->run(match_inputs(runner->graph(), inputs, inputs_path, allow_extra), batch, RunOptions{});
    double worst = 0;
    bool ok = true;
    for (const HostTensor& out : r.outputs) {
      // Only the relative L2 decides here, so any element tolerance does.
      const CompareStats s = compare_one(out, expected_by_name, outputs_path, cli::ToleranceChoice{}).stats;
      ok = ok && s.relative_l2 <= bound && s.nonfinite_mismatches == 0;  // NaN compares false
      worst = std::max(worst, std::isnan(s.relative_l2) ? INFINITY : s.relative_l2);
    }
    std::printf("  fp32 layers %4d %-40s worst relative L2 %-10.3g %s\n", n,
                n > 0 ? ("(up to " + layers[static_cast<std::size_t>(n - 1)]->name() + ")").c_str() : "(none)", worst,
                ok ? "within" : "beyond");
    std::fflush(stdout);
    j["fp32_layers_search"].push_back({{"fp32_layers", n}, {"worst_relative_l2", worst}, {"within", ok}});
    return ok;
  };
  const int n = smallest_passing_prefix(static_cast<int>(layers.size()), passes);
  if (n < 0) {
    std::printf("even every layer in float32 misses the bound; comparing with every layer in float32\n");
    return std::to_string(layers.size());
  }
  std::printf("fewest: --fp32-layers %d%s\n", n,
              n > 0 ? (" (the same as --fp32-layers .." + layers[static_cast<std::size_t>(n - 1)]->name() + ")").c_str()
                    : " (every layer half)");
  return spec_of(n);
}

int compare_command(CompareCommandOptions& o) {
  RunnerOptions& ro = o.runner;
  const CompareTolerance& tol = o.tol;
  // Checked before the model runs; a NaN tolerance would pass every element.
  for (const auto& [name, v] : {std::pair<const char*, double>{"atol", tol.atol}, {"rtol", tol.rtol}})
    if (!(v >= 0.0) || std::isinf(v))
      throw UsageError(std::string("--") + name + ": expected a finite number >= 0, got " + std::to_string(v));
  ro.device = resolve_device(ro.device);
  if (!(o.max_rel_l2 >= 0.0) || std::isinf(o.max_rel_l2))
    throw UsageError("--max-rel-l2: expected a finite number >= 0, got " + std::to_string(o.max_rel_l2));
  if (o.golden.empty()) o.golden = model_folder(resolve_model_yaml(ro.model)) + "/golden";
  const std::string layers_path = o.golden + "/layers.manifest";
  if (o.layers && !std::filesystem::exists(layers_path)) {
    throw UsageError("--layers: " + layers_path +
                     " does not exist: this export has no golden layer outputs; export it again with "
                     "`python3 -m kiln_export ... --golden-layers` (or compare the outputs only, without --layers)");
  }

  const std::string inputs_path = o.golden + "/inputs.manifest";
  const std::string outputs_path = o.golden + "/outputs.manifest";
  std::vector<HostTensor> inputs = read_host_tensors(inputs_path);
  const std::vector<HostTensor> expected = read_host_tensors(outputs_path);
  const std::int64_t batch = input_batch(ro.model, inputs, inputs_path);
  ro.max_batch = batch;
  ro.keep_layer_outputs = o.layers;
  Json search;
  if (ro.fp32_layers == "auto") {
    ro.fp32_layers = search_fp32_prefix(ro, inputs, expected, inputs_path, outputs_path, batch,
                                        o.max_rel_l2 > 0 ? o.max_rel_l2 : 1e-2, o.allow_extra, search);
  }
  auto runner = make_runner(ro);
  const Graph& g = runner->graph();
  inputs = match_inputs(g, std::move(inputs), inputs_path, o.allow_extra);
  const cli::ToleranceChoice choice =
      cli::choose_tolerance(tol, o.atol->count() > 0, o.rtol->count() > 0, cli::has_f16_weights(g.manifest()));
  std::printf("device: %s\n", runner->device_description().c_str());
  std::printf("tolerance: %s\n", choice.describe().c_str());

  const RunResult result = runner->run(inputs, batch, RunOptions{o.layers});
  // atol is null when it scales with each tensor (f16 weights): each row holds the one it applied.
  Json j = {{"model", g.spec().path},
            {"device", runner->device_description()},
            {"atol", choice.atol_share > 0 ? Json(nullptr) : Json(choice.tol.atol)},
            {"rtol", choice.tol.rtol},
            {"atol_share_of_largest_value", choice.atol_share},
            {"max_relative_l2", o.max_rel_l2 > 0 ? Json(o.max_rel_l2) : Json(nullptr)},
            {"fp32_layers", ro.fp32_layers},
            {"outputs", Json::array()}};
  if (search.contains("fp32_layers_search")) j["fp32_layers_search"] = search["fp32_layers_search"];
  bool ok = true;
  const auto expected_by_name = by_name(expected);
  for (const HostTensor& out : result.outputs) {
    const Row r = compare_one(out, expected_by_name, outputs_path, choice);
    // NaN compares false: a NaN relative L2 is beyond any bound.
    const bool l2_ok = o.max_rel_l2 <= 0 || r.stats.relative_l2 <= o.max_rel_l2;
    const bool pass = r.stats.pass() && l2_ok;
    ok = ok && pass;
    Json row = {{"name", r.name}, {"shape", shape_to_string(out.shape)}};
    row.update(stats_json(r));
    row["pass"] = pass;
    j["outputs"].push_back(std::move(row));
    std::printf("output %s %s: %s  %s\n", r.name.c_str(), shape_to_string(out.shape).c_str(),
                format_stats_line(r.stats).c_str(), pass ? "PASS" : "FAIL");
    if (!l2_ok) std::printf("  relative L2 %.3g is beyond --max-rel-l2 %.3g\n", r.stats.relative_l2, o.max_rel_l2);
    if (!r.stats.pass()) {
      std::printf("  worst element %zu: kiln %.9g, PyTorch %.9g; would pass with --atol %.3g or --rtol %.3g\n",
                  r.stats.worst_index, r.stats.worst_actual, r.stats.worst_expected, r.stats.required_atol,
                  r.stats.required_rtol);
    }
  }
  std::string first_divergent;
  if (o.layers) {
    j["layers"] = Json::array();
    const std::vector<HostTensor> golden_layers = read_host_tensors(layers_path);
    const auto golden_by_name = by_name(golden_layers);
    std::printf("\n%-4s %-32s %-17s %-11s %-11s %-11s %-11s %s\n", "#", "layer", "op", "max abs", "max rel", "rel L2",
                "cosine", "mismatches");
    bool first_marked = false;
    for (std::size_t i = 0; i < result.layers.size(); ++i) {
      const HostTensor& t = result.layers[i];
      if (!golden_by_name.count(t.name)) continue;
      const Row r = compare_one(t, golden_by_name, layers_path, choice);
      const bool mark = !r.stats.pass() && !first_marked;
      first_marked = first_marked || mark;
      if (mark) first_divergent = t.name;
      Json row = {{"index", i}, {"name", t.name}, {"op", g.layers()[i]->op()}};
      row.update(stats_json(r));
      j["layers"].push_back(std::move(row));
      std::printf("%-4zu %-32s %-17s %-11.3g %-11.3g %-11.3g %-11.8f %zu/%zu%s\n", i, t.name.c_str(),
                  g.layers()[i]->op().c_str(), r.stats.max_abs, r.stats.max_rel, r.stats.relative_l2,
                  r.stats.cosine_similarity, r.stats.mismatches, r.stats.count,
                  mark ? "   <-- first layer beyond tolerance" : "");
    }
    if (!first_marked) std::printf("every layer within tolerance\n");
    ok = ok && !first_marked;
  }
  const bool finite = o.no_check_finite || report_nonfinite(ro, *runner, inputs, batch, result);
  ok = ok && finite;
  j["first_divergent_layer"] = first_divergent;
  j["finite"] = finite;
  j["pass"] = ok;
  if (!o.json_path.empty()) save_json(o.json_path, j);
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? kExitOk : kExitMismatch;
}

}  // namespace

Command add_compare_command(CLI::App& tool) {
  auto o = std::make_shared<CompareCommandOptions>();
  CLI::App* cmd = cli::add_command(
      tool, "compare", "run the golden inputs the exporter wrote and compare with PyTorch's outputs",
      "Runs the golden inputs the exporter wrote (DIR/golden/inputs.manifest) and compares kiln's\n"
      "outputs with PyTorch's (DIR/golden/outputs.manifest). An element fails only when its error is\n"
      "over both --atol and --rtol (polygraphy's rule); NaN/Inf disagreements always fail, and so does\n"
      "a NaN/Inf anywhere unless --no-check-finite. Exits 1 when any output fails. With --layers (export\n"
      "with --golden-layers), compares every layer and marks the first one beyond tolerance. An export\n"
      "with f16 weights (kiln_export --dtype f16) defaults to rtol 1e-2 and an atol of 1e-2 of each tensor's\n"
      "largest |value| (f16 rounding moves outputs by ~1e-3 of it); the tolerance line says which was used.");
  add_model_option(*cmd, o->runner.model);
  add_device_options(*cmd, o->runner);
  cli::add_string(*cmd, "--golden", "DIR", o->golden, "golden tensors folder")->default_str("DIR/golden");
  o->atol = cli::add_double(*cmd, "--atol", "X", o->tol.atol,
                            "absolute tolerance (f16 weights: 0.01 x each tensor's largest |value|)");
  o->rtol = cli::add_double(*cmd, "--rtol", "X", o->tol.rtol, "relative tolerance (f16 weights: 0.01)");
  cli::add_flag(*cmd, "--layers", o->layers, "compare every layer's output with golden/layers.manifest");
  cli::add_string(*cmd, "--json", "FILE", o->json_path, "also write the statistics as JSON")
      ->check(cli::writable_output_path());
  cli::add_flag(*cmd, "--no-check-finite", o->no_check_finite,
                "do not look for NaN/Inf (by default an input or output holding one fails the comparison, naming "
                "the input or the first layer whose output is not finite)");
  cli::add_double(*cmd, "--max-rel-l2", "X", o->max_rel_l2,
                  "an output whose relative L2 error is above X fails too (0 = off); with --fp32-layers auto, the "
                  "bound its search meets (0 = 1e-2)");
  add_allow_extra_inputs(*cmd, o->allow_extra);
  return Command{cmd, [o] { return compare_command(*o); }};
}

}  // namespace kiln
