// The GPU side of the op registry: op name -> gpu::GpuOpKind, expanded from the one table in
// layers/op_table.h (the CPU side is layers/registry.h). Part of the GPU op library.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "layers/layer.h"

namespace kiln::gpu {

struct GpuOpKind;

// The GPU op kind of `layer`'s op. Throws ModelError naming the layer for an op that is not in the
// table (listing those that are) or has no GPU implementation (with the table's reason).
const GpuOpKind& gpu_op_kind(const Layer& layer);

// Sorted names of the ops that run on the GPU.
std::vector<std::string> gpu_ops();
// Ops that run on the CPU only, with the reason the table gives.
std::vector<std::pair<std::string, std::string>> cpu_only_ops();

}  // namespace kiln::gpu
