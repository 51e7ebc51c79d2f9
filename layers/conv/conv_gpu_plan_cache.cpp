#include "layers/conv/conv_gpu_plan_cache.h"

#include <charconv>
#include <cstdlib>
#include <system_error>
#include <sstream>
#include <vector>

namespace kiln::gpu {

std::string encode_selection(const ConvSelection& s) {
  // to_chars / from_chars: the same text under any C locale a host application sets (LC_NUMERIC's
  // decimal comma would make one process's entries unreadable to another's).
  char ms[32];
  const auto written = std::to_chars(ms, ms + sizeof ms - 1, s.measured_ms, std::chars_format::general, 6);
  *written.ptr = '\0';
  return "fused=" + std::to_string(s.fused) + " fallback=" + (s.from_fallback ? "1" : "0") +
         " workspace=" + std::to_string(s.workspace) + " ms=" + ms + " choice=" + s.choice.name();
}

std::optional<ConvSelection> decode_selection(const std::string& text, int max_fused, std::uint64_t cap) {
  std::istringstream in(text);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) return std::nullopt;
  const char* names[] = {"fused=", "fallback=", "workspace=", "ms=", "choice="};
  std::vector<std::string> values;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string name = names[i];
    if (fields[i].compare(0, name.size(), name) != 0) return std::nullopt;
    values.push_back(fields[i].substr(name.size()));
  }
  ConvSelection s;
  if (values[0].size() != 1 || values[0][0] < '0' || values[0][0] - '0' > max_fused) return std::nullopt;
  s.fused = values[0][0] - '0';
  if (values[1] != "0" && values[1] != "1") return std::nullopt;
  s.from_fallback = values[1] == "1";
  if (values[2].empty() || values[2].size() > 19 || values[2].find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  s.workspace = std::strtoull(values[2].c_str(), nullptr, 10);
  if (s.workspace > cap) return std::nullopt;
  const std::string& ms = values[3];
  const auto parsed = std::from_chars(ms.data(), ms.data() + ms.size(), s.measured_ms);
  if (ms.empty() || parsed.ec != std::errc() || parsed.ptr != ms.data() + ms.size()) return std::nullopt;
  const std::optional<EngineChoice> choice = EngineChoice::parse(values[4]);
  if (!choice) return std::nullopt;
  s.choice = *choice;
  return s;
}

std::string conv_plan_key(const PlanCacheRef& plans, const ConvGraphDesc& desc, const EngineChoice& choice) {
  return plans.key("conv-plan", conv_graph_signature(desc) + "|" + choice.name());
}

std::optional<ConvPlan> cached_conv_plan(const PlanCacheRef& plans, cudnnHandle_t handle, const std::string& key,
                                         const EngineChoice& choice, std::uint64_t workspace_limit, bool* known) {
  *known = false;
  if (!plans.cache) return std::nullopt;
  const std::optional<std::string> json = plans.cache->get(key);
  if (!json) return std::nullopt;
  if (json->empty()) {  // built from its recipe
    *known = true;
    return std::nullopt;
  }
  ConvPlan p;
  try {
    p.plan = deserialize_plan(handle, *json);
    p.workspace = p.plan.get_int64(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE);
  } catch (const CudnnError& e) {
    plans.cache->reject(key, std::string("cuDNN refused the serialized plan: ") + e.what());
    return std::nullopt;
  }
  *known = true;
  if (p.workspace < 0 || static_cast<std::uint64_t>(p.workspace) > workspace_limit) return std::nullopt;
  p.choice = choice;
  return p;
}

void store_conv_plan(const PlanCacheRef& plans, const std::string& key, const ConvPlan& plan) {
  if (!plans.cache) return;
  if (const std::optional<std::string> text = serialize_plan(plan.plan)) plans.cache->put(key, *text);
}

}  // namespace kiln::gpu
