#include "engine/mixed_precision.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "base/errors.h"

namespace kiln {

namespace {

std::string trimmed(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// "the layers are conv1, bn1, relu, ... (56 in all)": a hint for a name that matched nothing.
std::string some_names(const Graph& graph) {
  std::string s;
  const auto& layers = graph.layers();
  for (std::size_t i = 0; i < layers.size() && i < 4; ++i) s += (i ? ", " : "") + layers[i]->name();
  if (layers.size() > 4) s += ", ...";
  return "the model's layers are " + s + " (" + std::to_string(layers.size()) + " in all; `kiln inspect` lists them)";
}

}  // namespace

std::vector<bool> select_layers(const Graph& graph, const std::string& spec) {
  const auto& layers = graph.layers();
  std::vector<bool> out(layers.size(), false);
  if (trimmed(spec).empty()) return out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string item = trimmed(spec.substr(start, comma - start));
    start = comma + 1;
    const std::string where = "fp32 layers '" + spec + "': item '" + item + "'";
    if (item.empty()) throw UsageError("fp32 layers '" + spec + "': an empty item (expected N, ..NAME, PREFIX* or NAME)");
    if (item == "auto") {
      throw UsageError(where + ": `kiln compare --fp32-layers auto` searches for a count against the golden outputs; " +
                       "an engine takes the count (or names) it found");
    }
    if (all_digits(item)) {
      if (item.size() > 9 || std::stoull(item) > layers.size()) {
        throw UsageError(where + ": the model has " + std::to_string(layers.size()) + " layers");
      }
      for (std::size_t i = 0; i < std::stoull(item); ++i) out[i] = true;
      continue;
    }
    bool matched = false;
    if (item.size() > 2 && item.compare(0, 2, "..") == 0) {
      const std::string last = item.substr(2);
      for (std::size_t i = 0; i < layers.size() && !matched; ++i) {
        out[i] = true;
        matched = layers[i]->name() == last;
      }
      if (!matched) {
        std::fill(out.begin(), out.end(), false);
        throw UsageError(where + ": no layer is named '" + last + "'; " + some_names(graph));
      }
      continue;
    }
    const bool prefix = item.back() == '*';
    const std::string key = prefix ? item.substr(0, item.size() - 1) : item;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string& name = layers[i]->name();
      if (prefix ? name.compare(0, key.size(), key) == 0 : name == key) {
        out[i] = true;
        matched = true;
      }
    }
    if (!matched) {
      throw UsageError(where + (prefix ? ": no layer name starts with '" + key + "'; " : ": no layer is named '" + key + "'; ") +
                       some_names(graph));
    }
  }
  return out;
}

bool MixedPrecisionPlan::any_fp32() const {
  return std::find(layer_fp32.begin(), layer_fp32.end(), true) != layer_fp32.end();
}

MixedPrecisionPlan plan_mixed_precision(const Graph& graph, const FusionPlan& fusion, std::vector<bool> selected,
                                        const std::vector<bool>& is_view) {
  const std::size_t n_layers = graph.layers().size();
  const std::size_t n_tensors = graph.tensors().size();
  if (selected.size() != n_layers || is_view.size() != n_layers || fusion.folded_into.size() != n_layers ||
      fusion.residual.size() != n_layers) {
    throw UsageError("plan_mixed_precision: expected one entry per layer (" + std::to_string(n_layers) + ")");
  }
  // The step a layer's work runs at: its producer's when it is folded.
  const auto step_of = [&](int layer) {
    const int into = fusion.folded_into[static_cast<std::size_t>(layer)];
    return into >= 0 ? into : layer;
  };

  MixedPrecisionPlan p;
  p.layer_fp32.assign(n_layers, false);
  p.tensor_fp32.assign(n_tensors, false);
  // A network input is float32 when any reader runs in float32 (a view follows the input, so it does not
  // count): that reader sees the caller's values, and half readers a copy rounded as the boundary would.
  for (const int t : graph.input_tensors()) {
    for (const int reader : graph.tensors()[static_cast<std::size_t>(t)].consumers) {
      const bool view = fusion.folded_into[static_cast<std::size_t>(reader)] < 0 && is_view[static_cast<std::size_t>(reader)];
      if (!view && selected[static_cast<std::size_t>(step_of(reader))]) p.tensor_fp32[static_cast<std::size_t>(t)] = true;
    }
  }
  for (std::size_t i = 0; i < n_layers; ++i) {
    const int into = fusion.folded_into[i];
    bool fp32 = selected[i];
    if (into >= 0) {
      fp32 = p.layer_fp32[static_cast<std::size_t>(into)];
    } else if (is_view[i]) {
      fp32 = p.tensor_fp32[static_cast<std::size_t>(graph.layer_inputs(static_cast<int>(i)).at(0))];
    }
    p.layer_fp32[i] = fp32;
    p.tensor_fp32[static_cast<std::size_t>(graph.output_tensor_of(static_cast<int>(i)))] = fp32;
  }

  // One copy per (source, kind), made at its first reader's step.
  std::map<std::pair<int, bool>, int> copies;
  const auto read_as = [&](int tensor, bool fp32, int step) {
    if (p.tensor_fp32[static_cast<std::size_t>(tensor)] == fp32) return tensor;
    auto [it, fresh] = copies.try_emplace({tensor, fp32}, static_cast<int>(n_tensors + p.conversions.size()));
    if (fresh) {
      p.conversions.push_back({step, step, tensor, it->second, fp32});
      p.tensor_fp32.push_back(fp32);
    }
    PrecisionConversion& c = p.conversions[static_cast<std::size_t>(it->second) - n_tensors];
    c.last_step = std::max(c.last_step, step);
    return it->second;
  };
  p.inputs.resize(n_layers);
  p.residual.assign(n_layers, -1);
  for (std::size_t i = 0; i < n_layers; ++i) {
    const int layer = static_cast<int>(i);
    const bool fp32 = p.layer_fp32[i];
    if (fusion.folded_into[i] >= 0) {
      p.inputs[i] = graph.layer_inputs(layer);  // read inside its producer's work, through residual below
      continue;
    }
    for (const int t : graph.layer_inputs(layer)) p.inputs[i].push_back(read_as(t, fp32, layer));
    if (fusion.residual[i] >= 0) p.residual[i] = read_as(fusion.residual[i], fp32, layer);
  }
  // Copies are numbered in order of their first step already (layers are visited in order).
  return p;
}

void check_selection_takes_effect(const Graph& graph, const FusionPlan& fusion, const std::vector<bool>& selected,
                                  const MixedPrecisionPlan& plan) {
  if (plan.any_fp32()) return;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (!selected[i]) continue;
    const Layer& layer = *graph.layers()[i];
    const int into = fusion.folded_into[i];
    throw UsageError("fp32 layers: every layer selected runs in half, so nothing would run in float32: " + layer.name() +
                     (into >= 0 ? " is folded into " + graph.layers()[static_cast<std::size_t>(into)]->name() +
                                      " (a half layer; select it too)"
                                : " is a view of a half tensor (select the layer that makes it)"));
  }
}

int smallest_passing_prefix(int layer_count, const std::function<bool(int)>& passes,
                            std::vector<std::pair<int, bool>>* trials) {
  const auto trial = [&](int n) {
    const bool ok = passes(n);
    if (trials) trials->emplace_back(n, ok);
    return ok;
  };
  if (layer_count < 0) throw UsageError("smallest_passing_prefix: a negative layer count");
  if (trial(0)) return 0;
  if (layer_count == 0 || !trial(layer_count)) return -1;
  int failing = 0, passing = layer_count;
  while (passing - failing > 1) {
    const int mid = failing + (passing - failing) / 2;
    (trial(mid) ? passing : failing) = mid;
  }
  return passing;
}

std::vector<PlanTensor> plan_tensors_with_copies(const Graph& graph, const MixedPrecisionPlan& plan) {
  std::vector<PlanTensor> tensors = graph.plan_tensors();
  for (const PrecisionConversion& c : plan.conversions) {
    PlanTensor t;
    t.first_step = c.step;
    t.last_step = c.last_step;
    tensors.push_back(t);
  }
  return tensors;
}

}  // namespace kiln
