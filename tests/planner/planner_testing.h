// Helpers for the planner tests: a tiny network builder that derives lifetimes from who reads what
// (so tests state graphs, not intervals), fresh random seeds, and an oracle written independently of
// engine/planner_check.cpp that checks a plan step by step.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/planner.h"

namespace kiln::testing {

// Builds PlanTensors the way a graph would: each layer is one step that reads earlier tensors and
// writes one; a tensor lives from its writer to its last reader, outputs to num_steps.
class Net {
 public:
  int input(std::uint64_t bytes);
  // A layer (the next step) reading `reads` and writing a tensor of `bytes`, optionally allowed to
  // write over input `in_place_of`.
  int layer(std::uint64_t bytes, const std::vector<int>& reads, int in_place_of = -1);
  // A layer that reinterprets `of` (flatten): a view of `bytes` (default: all of it).
  int view(int of, std::uint64_t bytes = 0);
  void output(int tensor) { outputs_.push_back(tensor); }

  int steps() const { return steps_; }
  std::uint64_t bytes(int tensor) const { return tensors_.at(tensor).bytes; }
  const std::vector<int>& outputs() const { return outputs_; }
  // The tensors with outputs alive to steps().
  std::vector<PlanTensor> tensors() const;

 private:
  void read(int tensor, int step);
  std::vector<PlanTensor> tensors_;
  std::vector<int> outputs_;
  int steps_ = 0;
};

// A plain chain: tensor i is written at step i - 1 and read only at step i (sizes.size() - 1 steps).
std::vector<PlanTensor> chain(const std::vector<std::uint64_t>& sizes);

std::uint64_t align_up(std::uint64_t bytes, std::uint64_t alignment);

// A fresh seed per call (std::random_device), or KILN_PLANNER_SEED when set, to replay a failure.
std::uint64_t fresh_seed();

// A random valid network of about `layers` layers: fan-in 1..3 with mostly recent and some long
// skip reads, random byte counts (some zero), views and in-place hints.
Net random_net(std::mt19937_64& rng, int layers);

// Checks, step by step and pair by pair, that no two tensors alive at one step overlap unless they
// are one view class or one was written in place over the other at that very step; plus
// alignment, sizes, sum_bytes and the bounds. Returns the problems found, empty when none.
std::string independent_check(const std::vector<PlanTensor>& tensors, int num_steps, std::uint64_t alignment,
                              const MemoryPlan& plan);

// Max over steps of the aligned bytes alive then, counting each view class and in-place merge once,
// each member only while it is itself alive: a lower bound computed apart from the planner.
std::uint64_t independent_lower_bound(const std::vector<PlanTensor>& tensors, int num_steps, std::uint64_t alignment,
                                      const MemoryPlan& plan);

bool ranges_overlap(const MemoryPlan& plan, const std::vector<PlanTensor>& tensors, int a, int b);

}  // namespace kiln::testing
