#include "layers/registry_gpu.h"

#include <map>
#include <string_view>

#include "base/errors.h"
#include "layers/op_table.h"

namespace kiln::gpu {

namespace {

// GpuOpKind stays incomplete here: the table stores the kinds' addresses only, so the registry does not
// depend on the GPU runtime's headers.
struct GpuColumn {
  const GpuOpKind* kind;
  const char* cpu_only_reason;
};

// The GPU column of layers/op_table.h.
#define KILN_GPU(kind_name) GpuColumn{&kind_name, nullptr}
#define KILN_CPU_ONLY(why) GpuColumn{nullptr, why}
#define KILN_GPU_ROW(name, cpu_factory, gpu_column) {name, gpu_column},

const std::map<std::string, GpuColumn, std::less<>>& table() {
  static const std::map<std::string, GpuColumn, std::less<>> rows = {KILN_OP_TABLE(KILN_GPU_ROW)};
  return rows;
}

#undef KILN_GPU_ROW
#undef KILN_CPU_ONLY
#undef KILN_GPU

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

std::vector<std::string> gpu_ops() {
  std::vector<std::string> names;
  for (const auto& [name, column] : table())
    if (column.kind) names.push_back(name);
  return names;
}

std::vector<std::pair<std::string, std::string>> cpu_only_ops() {
  std::vector<std::pair<std::string, std::string>> ops;
  for (const auto& [name, column] : table())
    if (!column.kind) ops.emplace_back(name, column.cpu_only_reason);
  return ops;
}

const GpuOpKind& gpu_op_kind(const Layer& layer) {
  const auto it = table().find(layer.op());
  if (it == table().end()) {
    throw ModelError(layer.origin().describe() + ": op '" + layer.op() + "' has no GPU implementation (GPU ops: " +
                     joined(gpu_ops()) + ")");
  }
  if (!it->second.kind) {
    throw ModelError(layer.origin().describe() + ": op '" + layer.op() + "' runs on the CPU only (" +
                     it->second.cpu_only_reason + "); use --device cpu");
  }
  return *it->second.kind;
}

}  // namespace kiln::gpu
