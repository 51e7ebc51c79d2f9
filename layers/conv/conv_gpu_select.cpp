// Engine selection for convolution graphs (see select_conv_plan in conv_gpu_graph.h).
#include <algorithm>
#include <mutex>
#include <set>

#include "layers/conv/conv_gpu_graph.h"

#include "engine/gpu/timing.h"

namespace kiln::gpu {

namespace {

// cuDNN documents heuristics mode B as not thread-safe to finalize concurrently.
std::mutex& heur_b_mutex() {
  static std::mutex m;
  return m;
}

const char* mode_name(cudnnBackendHeurMode_t m) {
  switch (m) {
    case CUDNN_HEUR_MODE_A:
      return "heuristics A";
    case CUDNN_HEUR_MODE_B:
      return "heuristics B";
    case CUDNN_HEUR_MODE_FALLBACK:
      return "fallback heuristics";
    default:
      return "heuristics";
  }
}

class Reasons {
 public:
  void add(std::string r) {
    if (list_.size() < 6) list_.push_back(std::move(r));
  }
  std::string join() const {
    std::string out;
    for (const std::string& r : list_) out += (out.empty() ? "" : "; ") + r;
    return out.empty() ? "no engine config offered" : out;
  }

 private:
  std::vector<std::string> list_;
};

std::vector<BackendDescriptor> heuristic_configs(const BackendDescriptor& graph, cudnnBackendHeurMode_t mode,
                                                 Reasons& why) {
  try {
    BackendDescriptor heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
    heur.set(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph).set(CUDNN_ATTR_ENGINEHEUR_MODE, mode);
    if (mode == CUDNN_HEUR_MODE_B) {
      std::lock_guard<std::mutex> lock(heur_b_mutex());
      heur.finalize();
    } else {
      heur.finalize();
    }
    const std::int64_t n = heur.count(CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR);
    if (n <= 0) return {};
    return heur.get_descriptors(CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, n);
  } catch (const CudnnError& e) {  // the graph is not supported by this mode: try the next
    why.add(std::string(mode_name(mode)) + ": " + e.what());
    return {};
  }
}

// Numerical notes decide what a precision admits (GpuEngineOptions / Precision). Nondeterministic
// engines are never used: concurrent contexts must give identical results. Fp16 admits what Tf32 does;
// REDUCED_PRECISION_REDUCTION (half accumulation) stays out, so convolutions accumulate in float.
// Fp32 admits FFT and Winograd engines only when `transforms` is set (GpuEngineOptions::fp32_transforms).
bool allowed_by_notes(const BackendDescriptor& cfg, Precision precision, bool transforms) {
  const std::vector<BackendDescriptor> engine =
      cfg.get_descriptors(CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_BACKEND_ENGINE_DESCRIPTOR, 1);
  if (engine.empty()) return false;
  const std::int64_t n = engine[0].count(CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE);
  const auto notes =
      n > 0 ? engine[0].get_enums<cudnnBackendNumericalNote_t>(CUDNN_ATTR_ENGINE_NUMERICAL_NOTE,
                                                               CUDNN_TYPE_NUMERICAL_NOTE, n)
            : std::vector<cudnnBackendNumericalNote_t>{};
  for (cudnnBackendNumericalNote_t note : notes) {
    switch (note) {
      case CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC:
      case CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS:
      case CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION:
        return false;
      case CUDNN_NUMERICAL_NOTE_TENSOR_CORE:
        if (precision == Precision::Fp32) return false;
        break;
      case CUDNN_NUMERICAL_NOTE_FFT:
      case CUDNN_NUMERICAL_NOTE_WINOGRAD:
      case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_4x4:
      case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_6x6:
      case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_13x13:
        if (precision == Precision::Fp32 && !transforms) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

// True when finalizing `cfg` compiles a kernel (cuDNN's runtime-fusion engines: 0.1-1 s each in fp16);
// false also when the behaviour notes cannot be read (only the tuner's compile budget depends on it).
bool compiles_at_finalize(const BackendDescriptor& cfg) {
  try {
    const std::vector<BackendDescriptor> engine =
        cfg.get_descriptors(CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_BACKEND_ENGINE_DESCRIPTOR, 1);
    if (engine.empty()) return false;
    const std::int64_t n = engine[0].count(CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE);
    if (n <= 0) return false;
    for (cudnnBackendBehaviorNote_t note :
         engine[0].get_enums<cudnnBackendBehaviorNote_t>(CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE, n)) {
      if (note == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION) return true;
    }
  } catch (const CudnnError&) {
  }
  return false;
}

// An engine whose notes cannot be read cannot be shown to be exact: skipped, with the reason.
bool allowed(const BackendDescriptor& cfg, const PlanRequest& req, Reasons& why) {
  try {
    return allowed_by_notes(cfg, req.precision, req.fp32_transforms);
  } catch (const CudnnError& e) {
    why.add(std::string("reading numerical notes: ") + e.what());
    return false;
  }
}

// The recipe of `cfg`. When cuDNN will not describe it, the result has engine_id -1: the plan is still
// used, and contexts re-select for their batch sizes instead of re-applying it.
EngineChoice describe_choice(const BackendDescriptor& cfg, Reasons& why) {
  EngineChoice c;
  try {
    const std::vector<BackendDescriptor> engine =
        cfg.get_descriptors(CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_BACKEND_ENGINE_DESCRIPTOR, 1);
    if (engine.empty()) return c;
    const std::int64_t id = engine[0].get_int64(CUDNN_ATTR_ENGINE_GLOBAL_INDEX);
    const std::int64_t n = cfg.count(CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR);
    if (n > 0) {
      for (const BackendDescriptor& k :
           cfg.get_descriptors(CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, n)) {
        const auto type = k.get_enums<cudnnBackendKnobType_t>(CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1);
        if (!type.empty()) c.knobs.emplace_back(type[0], k.get_int64(CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE));
      }
    }
    c.engine_id = id;
  } catch (const CudnnError& e) {  // only the recipe is lost, not the plan
    why.add(std::string("describing an engine config: ") + e.what());
    c.knobs.clear();
  }
  return c;
}

// Finalizes a plan for `cfg`; nullopt (with the reason) when cuDNN refuses it.
std::optional<ConvPlan> try_plan(cudnnHandle_t handle, BackendDescriptor cfg, std::vector<BackendDescriptor> parts,
                                 Reasons& why) {
  try {
    ConvPlan p;
    p.choice = describe_choice(cfg, why);
    p.plan = BackendDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    p.plan.set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, handle).set(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfg).finalize();
    p.workspace = p.plan.get_int64(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE);
    p.parts = std::move(parts);
    p.parts.push_back(std::move(cfg));
    return p;
  } catch (const CudnnError& e) {  // this config does not run the graph: the caller tries the next
    why.add(e.what());
    return std::nullopt;
  }
}

std::optional<ConvPlan> plan_from_choice(cudnnHandle_t handle, const BackendDescriptor& graph,
                                         const EngineChoice& choice, const PlanRequest& req, Reasons& why) {
  std::vector<BackendDescriptor> parts;
  try {
    BackendDescriptor engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
    engine.set(CUDNN_ATTR_ENGINE_OPERATION_GRAPH, graph)
        .set(CUDNN_ATTR_ENGINE_GLOBAL_INDEX, choice.engine_id)
        .finalize();
    std::vector<const BackendDescriptor*> knob_ptrs;
    for (const auto& [type, value] : choice.knobs) {
      BackendDescriptor k(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR);
      k.set(CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, type).set(CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, value).finalize();
      parts.push_back(std::move(k));
    }
    for (const BackendDescriptor& k : parts) knob_ptrs.push_back(&k);
    BackendDescriptor cfg(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
    cfg.set(CUDNN_ATTR_ENGINECFG_ENGINE, engine);
    if (!knob_ptrs.empty()) cfg.set(CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, knob_ptrs);
    cfg.finalize();
    // A recipe from the plan cache is checked as a heuristics' config is: never an engine the precision excludes.
    if (!allowed(cfg, req, why)) {
      why.add("engine " + choice.name() + " is not allowed in " + precision_name(req.precision));
      return std::nullopt;
    }
    parts.push_back(std::move(engine));
    return try_plan(handle, std::move(cfg), std::move(parts), why);
  } catch (const CudnnError& e) {  // the recipe does not apply to this graph (other batch): re-select
    why.add("engine " + choice.name() + ": " + e.what());
    return std::nullopt;
  }
}

// The heuristics' own config named `choice`, finalized. A config rebuilt from its recipe
// (plan_from_choice) can run another kernel than the heuristics' config of the same engine and knobs
// (fp16 outputs differed in the last bits on an H200 with cuDNN 9.14), so a layer re-planned for a context
// takes the very config the load chose whenever the heuristics still offer it: its results then do not
// depend on whether the plan came from the plan cache or was built again.
std::optional<ConvPlan> plan_from_heuristics(cudnnHandle_t handle, const BackendDescriptor& graph,
                                             const EngineChoice& choice, const PlanRequest& req, Reasons& why) {
  const std::string wanted = choice.name();
  for (cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_B, CUDNN_HEUR_MODE_FALLBACK}) {
    for (BackendDescriptor& cfg : heuristic_configs(graph, mode, why)) {
      if (!allowed(cfg, req, why) || describe_choice(cfg, why).name() != wanted) continue;
      std::optional<ConvPlan> p = try_plan(handle, std::move(cfg), {}, why);
      if (p) p->from_fallback = mode == CUDNN_HEUR_MODE_FALLBACK;
      return p;
    }
  }
  return std::nullopt;
}

// GPU milliseconds per execution of `p` on the timing buffers (time_per_run: kFindRuns executions in one
// CUDA graph, the fastest of a few replays); negative when the plan fails to run.
double time_plan(cudnnHandle_t handle, const ConvPlan& p, const ConvGraph& graph, const TimingBuffers& t, Reasons& why) {
  try {
    const BackendDescriptor vp = make_variant_pack({t.x, t.w, t.y, t.bias, t.residual}, graph.has_bias, graph.has_residual, t.workspace);
    return time_per_run(t.stream, [&] { KILN_CUDNN_CHECK(cudnnBackendExecute(handle, p.plan.get(), vp.get())); }, kFindRuns);
  } catch (const CudnnError& e) {  // a candidate that fails to execute is skipped, not fatal
    why.add("timing " + p.choice.name() + ": " + e.what());
    return -1.0;
  }
}

// Find mode: the candidates of heuristics mode A, mode B and the fallback list (at most kFindQuota of
// each, the same engine config only once, in that order, and at most kFindCompiledQuota configs whose
// finalize compiles a kernel: each costs a compile, so the lists' tails are not tried), each timed; the
// fastest that runs wins. A fallback-list
// engine that wins is marked from_fallback only if neither heuristics mode offered it.
std::optional<ConvPlan> tune_conv_plan(cudnnHandle_t handle, const ConvGraph& graph, const PlanRequest& req,
                                       std::int64_t cap, Reasons& why) {
  const TimingBuffers& t = *req.timing;
  const std::int64_t limit = std::min<std::int64_t>(cap, static_cast<std::int64_t>(std::min<std::uint64_t>(t.workspace_bytes, INT64_MAX)));
  constexpr cudnnBackendHeurMode_t kModes[3] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_B, CUDNN_HEUR_MODE_FALLBACK};
  std::set<std::string> seen;
  std::vector<ConvPlan> candidates;
  int compiled = 0;
  for (int m = 0; m < 3; ++m) {
    int taken = 0;
    for (BackendDescriptor& cfg : heuristic_configs(graph.graph, kModes[m], why)) {
      if (taken >= kFindQuota[m]) break;
      if (!allowed(cfg, req, why)) continue;
      const EngineChoice choice = describe_choice(cfg, why);
      if (choice.engine_id >= 0 && !seen.insert(choice.name()).second) continue;  // offered before
      if (compiles_at_finalize(cfg) && ++compiled > kFindCompiledQuota) continue;  // a compile too many
      std::optional<ConvPlan> p = try_plan(handle, std::move(cfg), {}, why);
      if (!p) continue;
      if (p->workspace > limit) {
        why.add(p->choice.name() + " needs " + std::to_string(p->workspace) + " bytes of workspace, over the cap");
        continue;
      }
      p->from_fallback = kModes[m] == CUDNN_HEUR_MODE_FALLBACK;
      candidates.push_back(std::move(*p));
      ++taken;
    }
  }
  std::optional<ConvPlan> best;
  for (ConvPlan& c : candidates) {
    c.measured_ms = time_plan(handle, c, graph, t, why);
    if (c.measured_ms >= 0 && (!best || c.measured_ms < best->measured_ms)) best = std::move(c);
  }
  return best;
}

}  // namespace

std::optional<ConvPlan> select_conv_plan(cudnnHandle_t handle, const ConvGraph& graph, const PlanRequest& req,
                                         std::string* why_not) {
  Reasons why;
  const auto cap = static_cast<std::int64_t>(std::min<std::uint64_t>(req.workspace_cap, INT64_MAX));
  if (req.preferred && req.preferred->engine_id >= 0) {
    std::optional<ConvPlan> p = plan_from_heuristics(handle, graph.graph, *req.preferred, req, why);
    if (!p) p = plan_from_choice(handle, graph.graph, *req.preferred, req, why);
    if (p && p->workspace <= cap) return p;
  }
  if (req.timing) {
    if (std::optional<ConvPlan> best = tune_conv_plan(handle, graph, req, cap, why)) return best;
  }
  for (cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_B}) {
    if (req.timing) break;  // tuned above: none of them runs within the cap
    for (BackendDescriptor& cfg : heuristic_configs(graph.graph, mode, why)) {
      if (!allowed(cfg, req, why)) continue;
      std::optional<ConvPlan> p = try_plan(handle, std::move(cfg), {}, why);
      if (!p) continue;
      if (p->workspace > cap) {
        why.add(p->choice.name() + " needs " + std::to_string(p->workspace) + " bytes of workspace, over the cap");
        continue;
      }
      return p;
    }
  }
  // Nothing fits the cap or runs: the fallback list, preferring configs that need no workspace.
  std::vector<ConvPlan> fallbacks;
  for (BackendDescriptor& cfg : heuristic_configs(graph.graph, CUDNN_HEUR_MODE_FALLBACK, why)) {
    if (!allowed(cfg, req, why)) continue;
    std::optional<ConvPlan> p = try_plan(handle, std::move(cfg), {}, why);
    if (p) p->from_fallback = true;
    if (p && p->workspace == 0) return p;
    if (p && p->workspace <= cap) fallbacks.push_back(std::move(*p));
  }
  if (!fallbacks.empty()) return std::move(fallbacks.front());
  if (why_not) *why_not = why.join();
  return std::nullopt;
}

}  // namespace kiln::gpu
