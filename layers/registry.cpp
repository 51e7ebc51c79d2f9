#include "layers/registry.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "layers/op_table.h"

namespace kiln {

namespace {

struct Registration {
  std::string_view op;
  LayerFactory make;
};

// Every op of formats/README.md, "Ops": the CPU column of layers/op_table.h.
#define KILN_CPU_ROW(name, cpu_factory, gpu_column) {name, &cpu_factory},
constexpr Registration kRegistrations[] = {KILN_OP_TABLE(KILN_CPU_ROW)};
#undef KILN_CPU_ROW

// A name registered twice does not compile, so the map below can never silently drop one.
constexpr bool all_distinct() {
  constexpr std::size_t n = sizeof(kRegistrations) / sizeof(kRegistrations[0]);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (kRegistrations[i].op == kRegistrations[j].op) return false;
  return true;
}
static_assert(all_distinct(), "an op is registered twice in layers/op_table.h");

const std::map<std::string, LayerFactory, std::less<>>& factories() {
  static const std::map<std::string, LayerFactory, std::less<>> map = [] {
    std::map<std::string, LayerFactory, std::less<>> m;
    for (const Registration& r : kRegistrations) m.emplace(std::string(r.op), r.make);
    return m;
  }();
  return map;
}

}  // namespace

std::vector<std::string> registered_ops() {
  std::vector<std::string> ops;
  for (const auto& kv : factories()) ops.push_back(kv.first);  // std::map keeps them sorted
  return ops;
}

std::unique_ptr<Layer> build_layer(const LayerBuildContext& ctx) {
  const auto it = factories().find(ctx.spec().op());
  if (it == factories().end()) {
    std::string known;
    for (const std::string& op : registered_ops()) known += (known.empty() ? "" : ", ") + op;
    ctx.fail("unknown op '" + ctx.spec().op() + "' (known ops: " + known + ")");
  }
  std::unique_ptr<Layer> layer = it->second(ctx);
  ctx.finish();  // idempotent; guards against a factory that forgot to call it
  return layer;
}

}  // namespace kiln
