#include "layers/registry.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "layers/activation/activation.h"
#include "layers/conv/conv2d.h"
#include "layers/linear/linear.h"
#include "layers/norm/batch_norm.h"
#include "layers/norm/lrn.h"
#include "layers/pool/pool.h"
#include "layers/softmax/softmax.h"
#include "layers/tensor/add.h"
#include "layers/tensor/concat.h"
#include "layers/tensor/flatten.h"
#include "layers/tensor/upsample.h"

namespace kiln {

namespace {

struct Registration {
  std::string_view op;
  LayerFactory make;
};

// Every op of formats/README.md, "Ops". Adding an op is one line here plus its file pair.
constexpr Registration kRegistrations[] = {
    {"conv2d", make_conv},
    {"conv_transpose2d", make_conv},
    {"batch_norm", make_batch_norm},
    {"relu", make_activation},
    {"leaky_relu", make_activation},
    {"sigmoid", make_activation},
    {"tanh", make_activation},
    {"elu", make_activation},
    {"max_pool2d", make_pool},
    {"avg_pool2d", make_pool},
    {"global_avg_pool2d", make_pool},
    {"linear", make_linear},
    {"flatten", make_flatten},
    {"lrn", make_lrn},
    {"softmax", make_softmax},
    {"add", make_add},
    {"concat", make_concat},
    {"upsample_nearest", make_upsample},
};

// A name registered twice does not compile, so the map below can never silently drop one.
constexpr bool all_distinct() {
  constexpr std::size_t n = sizeof(kRegistrations) / sizeof(kRegistrations[0]);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (kRegistrations[i].op == kRegistrations[j].op) return false;
  return true;
}
static_assert(all_distinct(), "an op is registered twice in kRegistrations");

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
