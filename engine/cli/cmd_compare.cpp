#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "engine/cli/commands.h"
#include "engine/cli/options.h"
#include "engine/cli/device_options.h"
#include "engine/cli/finite_report.h"
#include "engine/runner.h"
#include "engine/compare.h"
#include "base/errors.h"
#include "engine/json_writer.h"
#include "engine/model_dir.h"

namespace kiln {

namespace {

struct Row {
  std::string name;
  CompareStats stats;
};

// Compares `actual` with the same-named tensor of `expected`; a shape mismatch is an error.
Row compare_one(const HostTensor& actual, const std::map<std::string, const HostTensor*>& expected,
                const std::string& source, const CompareTolerance& tol) {
  auto it = expected.find(actual.name);
  if (it == expected.end()) throw UsageError(source + ": holds no tensor named '" + actual.name + "'");
  const HostTensor& e = *it->second;
  if (e.shape != actual.shape) {
    throw UsageError(source + ": tensor '" + actual.name + "' has shape " + shape_to_string(e.shape) + ", kiln produced " +
                     shape_to_string(actual.shape));
  }
  return Row{actual.name, compare_tensors(actual.data.data(), e.data.data(), e.data.size(), tol)};
}

void write_stats(JsonWriter& j, const CompareStats& s) {
  j.value("count", static_cast<std::uint64_t>(s.count))
      .value("mismatches", static_cast<std::uint64_t>(s.mismatches))
      .value("nonfinite_mismatches", static_cast<std::uint64_t>(s.nonfinite_mismatches))
      .value("max_abs", s.max_abs).value("mean_abs", s.mean_abs).value("median_abs", s.median_abs)
      .value("max_rel", s.max_rel).value("mean_rel", s.mean_rel).value("median_rel", s.median_rel)
      .value("cosine_similarity", s.cosine_similarity).value("relative_l2", s.relative_l2)
      .value("worst_index", static_cast<std::uint64_t>(s.worst_index))
      .value("worst_kiln", s.worst_actual).value("worst_pytorch", s.worst_expected)
      .value("required_atol", s.required_atol).value("required_rtol", s.required_rtol)
      .value("pass", s.pass());
}

std::map<std::string, const HostTensor*> by_name(const std::vector<HostTensor>& v) {
  std::map<std::string, const HostTensor*> m;
  for (const HostTensor& t : v) m[t.name] = &t;
  return m;
}

}  // namespace

int cmd_compare(int argc, char** argv) {
  RunnerOptions ro;
  std::string golden;
  CompareTolerance tol;
  bool layers = false;
  std::string json_path;
  OptionParser p("kiln compare --model DIR [options]",
                 "Runs the golden inputs the exporter wrote (DIR/golden/inputs.manifest) and compares kiln's\n"
                 "outputs with PyTorch's (DIR/golden/outputs.manifest). An element fails only when its error is\n"
                 "over both --atol and --rtol (polygraphy's rule); NaN/Inf disagreements always fail, and so does\n"
                 "a NaN/Inf anywhere unless --no-check-finite. Exits 1 when any output fails. With --layers (export with --golden-layers), compares every layer and\n"
                 "marks the first one beyond tolerance.");
  p.add_string("model", "DIR", "model folder (or its model.yaml)", &ro.model, true);
  add_device_options(p, ro);
  p.add_string("golden", "DIR", "golden tensors folder (default: DIR/golden)", &golden);
  p.add_double("atol", "X", "absolute tolerance", &tol.atol);
  p.add_double("rtol", "X", "relative tolerance", &tol.rtol);
  p.add_flag("layers", "compare every layer's output with golden/layers.manifest", &layers);
  p.add_string("json", "FILE", "also write the statistics as JSON", &json_path);
  bool no_check_finite = false;
  p.add_flag("no-check-finite",
             "do not look for NaN/Inf (by default an input or output holding one fails the comparison, naming the "
             "input or the first layer whose output is not finite)",
             &no_check_finite);
  bool allow_extra = false;
  add_allow_extra_inputs(p, &allow_extra);
  if (!p.parse(argc, argv, 2)) return 0;
  // Checked before the model runs; a NaN tolerance would pass every element.
  for (const auto& [name, v] : {std::pair<const char*, double>{"atol", tol.atol}, {"rtol", tol.rtol}})
    if (!(v >= 0.0) || std::isinf(v))
      throw UsageError(std::string("--") + name + ": expected a finite number >= 0, got " + std::to_string(v));
  if (golden.empty()) golden = model_folder(resolve_model_yaml(ro.model)) + "/golden";

  const std::string inputs_path = golden + "/inputs.manifest";
  const std::string outputs_path = golden + "/outputs.manifest";
  std::vector<HostTensor> inputs = read_host_tensors(inputs_path);
  const std::vector<HostTensor> expected = read_host_tensors(outputs_path);
  const std::int64_t batch = input_batch(ro.model, inputs, inputs_path);
  ro.max_batch = batch;
  ro.keep_layer_outputs = layers;
  auto runner = make_runner(ro);
  inputs = match_inputs(runner->graph(), std::move(inputs), inputs_path, allow_extra);
  std::printf("device: %s\n", runner->device_description().c_str());
  std::printf("tolerance: atol %g, rtol %g\n", tol.atol, tol.rtol);

  const RunResult result = runner->run(inputs, batch, RunOptions{layers});
  JsonWriter j;
  j.begin_object().value("model", runner->graph().spec().path).value("device", runner->device_description());
  j.value("atol", tol.atol).value("rtol", tol.rtol).begin_array("outputs");
  bool ok = true;
  const auto expected_by_name = by_name(expected);
  for (const HostTensor& out : result.outputs) {
    const Row r = compare_one(out, expected_by_name, outputs_path, tol);
    ok = ok && r.stats.pass();
    j.begin_object().value("name", r.name).value("shape", shape_to_string(out.shape));
    write_stats(j, r.stats);
    j.end_object();
    std::printf("output %s %s: %s  %s\n", r.name.c_str(), shape_to_string(out.shape).c_str(),
                format_stats_line(r.stats).c_str(), r.stats.pass() ? "PASS" : "FAIL");
    if (!r.stats.pass()) {
      std::printf("  worst element %zu: kiln %.9g, PyTorch %.9g; would pass with --atol %.3g or --rtol %.3g\n",
                  r.stats.worst_index, r.stats.worst_actual, r.stats.worst_expected, r.stats.required_atol,
                  r.stats.required_rtol);
    }
  }
  j.end_array();
  std::string first_divergent;
  if (layers) {
    j.begin_array("layers");
    const std::string layers_path = golden + "/layers.manifest";
    const std::vector<HostTensor> golden_layers = read_host_tensors(layers_path);
    const auto golden_by_name = by_name(golden_layers);
    std::printf("\n%-4s %-32s %-17s %-11s %-11s %-11s %-11s %s\n", "#", "layer", "op", "max abs", "max rel", "rel L2",
                "cosine", "mismatches");
    bool first_marked = false;
    for (std::size_t i = 0; i < result.layers.size(); ++i) {
      const HostTensor& t = result.layers[i];
      if (!golden_by_name.count(t.name)) continue;
      const Row r = compare_one(t, golden_by_name, layers_path, tol);
      const bool mark = !r.stats.pass() && !first_marked;
      first_marked = first_marked || mark;
      if (mark) first_divergent = t.name;
      j.begin_object().value("index", static_cast<std::uint64_t>(i)).value("name", t.name);
      j.value("op", runner->graph().layers()[i]->op());
      write_stats(j, r.stats);
      j.end_object();
      std::printf("%-4zu %-32s %-17s %-11.3g %-11.3g %-11.3g %-11.8f %zu/%zu%s\n", i, t.name.c_str(),
                  runner->graph().layers()[i]->op().c_str(), r.stats.max_abs, r.stats.max_rel, r.stats.relative_l2,
                  r.stats.cosine_similarity, r.stats.mismatches, r.stats.count,
                  mark ? "   <-- first layer beyond tolerance" : "");
    }
    j.end_array();
    if (!first_marked) std::printf("every layer within tolerance\n");
    ok = ok && !first_marked;
  }
  const bool finite = no_check_finite || report_nonfinite(ro, *runner, inputs, batch, result);
  ok = ok && finite;
  j.value("first_divergent_layer", first_divergent).value("finite", finite).value("pass", ok).end_object();
  if (!json_path.empty()) j.save(json_path);
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? kExitOk : kExitMismatch;
}

}  // namespace kiln
