// The activation memory planner: gives every tensor of a network an offset in one arena, from the
// tensors' lifetimes, so that no two tensors that are alive at the same time overlap. Plain C++ with
// no CUDA in it, so it is tested anywhere.
//
// Model: steps 0..S-1 are the layers in execution order. A tensor is alive from the step that writes
// it (`first_step`; -1 for a network input, written before step 0) through the last step that reads
// it (`last_step`; S for network outputs, read after the last step). Two tensors conflict when their
// closed intervals [first_step, last_step] intersect — so a layer's output never overlaps its
// inputs, unless the planner was told the layer may run in place.
//
// Guarantees: no conflicting tensors overlap; every offset is a multiple of `alignment`; for a plain
// chain the arena is at most two buffers of the largest tensor (ping-pong); the arena is never larger
// than the sum of all tensors. Skip links (a tensor read by a later add or concat) stay alive exactly
// until their last reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/errors.h"

namespace kiln {

struct PlanTensor {
  std::uint64_t bytes = 0;
  int first_step = -1;
  int last_step = 0;
  // A view: this tensor is tensor `alias_of`'s memory reinterpreted (flatten). Its offset is the
  // target's; the target is kept alive as long as the view is. -1 for none. Must point to an earlier
  // tensor of the same or larger size.
  int alias_of = -1;
  // The writing layer may write this tensor over input tensor `in_place_of` if that input's last
  // reader is this tensor's writer and it is not larger-lived otherwise; -1 for none. The planner
  // decides; in_place_taken in the plan says whether it did.
  int in_place_of = -1;
};

struct MemoryPlan {
  std::vector<std::uint64_t> offsets;  // one per tensor, bytes from the arena start
  std::vector<bool> in_place_taken;    // one per tensor: shares memory with its in_place_of input
  std::uint64_t arena_bytes = 0;       // the arena's size (a multiple of alignment)
  std::uint64_t sum_bytes = 0;         // sum of all non-view tensors, aligned: the no-reuse size
  std::uint64_t peak_live_bytes = 0;   // max over steps of the bytes alive then: a lower bound
  std::string strategy;                // which placement heuristic won
};

// What plan_memory throws for a tensor it cannot plan: a UsageError that also says which tensor and
// field, so that a caller that knows the tensors (Graph, GpuEngine) can name the layer behind it.
class PlanTensorError : public UsageError {
 public:
  PlanTensorError(std::size_t tensor, std::string field, std::string problem);
  std::size_t tensor() const { return tensor_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

 private:
  std::size_t tensor_;
  std::string field_;
  std::string problem_;
};

// Throws PlanTensorError for an inconsistent tensor (bad intervals, bad alias, sizes that overflow) and
// UsageError for a bad alignment.
MemoryPlan plan_memory(const std::vector<PlanTensor>& tensors, int num_steps, std::uint64_t alignment = 256);

// True when no two conflicting tensors overlap in `plan` (views excepted); used by tests and, cheaply,
// as a self-check after planning.
bool plan_is_valid(const std::vector<PlanTensor>& tensors, const MemoryPlan& plan);

}  // namespace kiln
