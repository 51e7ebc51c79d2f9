// Mixed precision's plan (engine/mixed_precision.h), CUDA-free: which layers an fp32_layers spec
// selects, how folding and views move a layer's precision, which tensors are converted where, and that
// the copies' lifetimes give a memory plan without overlaps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/errors.h"
#include "engine/gpu/engine_options.h"
#include "engine/mixed_precision.h"
#include "engine/model_dir.h"
#include "engine/planner.h"
#include "tests/common/test_model.h"
#include "tests/engine/fusion_graphs.h"

namespace kiln {
namespace {

using test::conv8;
using test::conv8_weights;
using test::gpu_fusion_traits;
using test::TestModel;
using ::testing::HasSubstr;

struct Fixture {
  TestModel model;
  LoadedModel loaded;
  Fixture(const std::vector<std::string>& layers, const std::vector<std::string>& outputs,
          const std::vector<std::string>& convs)
      : model({{"x", {2, 8, 6, 6}}}, layers, outputs, conv8_weights(convs)), loaded(load_model(model.dir())) {}
  const Graph& g() const { return loaded.graph; }
  int layer(const std::string& name) const {
    for (std::size_t i = 0; i < g().layers().size(); ++i)
      if (g().layers()[i]->name() == name) return static_cast<int>(i);
    ADD_FAILURE() << "no layer " << name;
    return -1;
  }
  int out(const std::string& name) const { return g().output_tensor_of(layer(name)); }
  MixedPrecisionPlan plan(const std::string& spec, bool fuse = true, std::vector<bool> views = {}) const {
    const FusionPlan f = plan_fusion(g(), fuse ? gpu_fusion_traits(g()) : std::vector<FusionTraits>(g().layers().size()), true);
    if (views.empty()) views.assign(g().layers().size(), false);
    return plan_mixed_precision(g(), f, select_layers(g(), spec), views);
  }
};

// ResNet's basic block: x -> c1 -> r1 -> c2 -> add(c2, x) -> r2.
Fixture basic_block() {
  return Fixture({conv8("c1", "x"), "{name: r1, op: relu, inputs: [c1]}", conv8("c2", "r1"),
                  "{name: add, op: add, inputs: [c2, x]}", "{name: r2, op: relu, inputs: [add]}"},
                 {"r2"}, {"c1", "c2"});
}

TEST(MixedPrecision, SpecsSelectByCountRangePrefixAndName) {
  const Fixture f = basic_block();
  using V = std::vector<bool>;
  EXPECT_EQ(select_layers(f.g(), ""), V(5, false));
  EXPECT_EQ(select_layers(f.g(), "2"), (V{true, true, false, false, false}));
  EXPECT_EQ(select_layers(f.g(), "0"), V(5, false));
  EXPECT_EQ(select_layers(f.g(), "..c2"), (V{true, true, true, false, false}));
  EXPECT_EQ(select_layers(f.g(), "r*"), (V{false, true, false, false, true}));
  EXPECT_EQ(select_layers(f.g(), " add , 1"), (V{true, false, false, true, false}));
  EXPECT_EQ(select_layers(f.g(), "5"), V(5, true));
  EXPECT_EQ(select_layers(f.g(), "*"), V(5, true));
}

TEST(MixedPrecision, BadSpecsNameTheItem) {
  const Fixture f = basic_block();
  const auto message = [&](const std::string& spec) {
    try {
      select_layers(f.g(), spec);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message("6"), HasSubstr("item '6': the model has 5 layers"));
  EXPECT_THAT(message("99999999999999"), HasSubstr("the model has 5 layers"));
  EXPECT_THAT(message("c1,,c2"), HasSubstr("an empty item"));
  EXPECT_THAT(message("..nope"), HasSubstr("no layer is named 'nope'"));
  EXPECT_THAT(message("z*"), HasSubstr("no layer name starts with 'z'"));
  EXPECT_THAT(message("c3"), AllOf(HasSubstr("item 'c3'"), HasSubstr("c1, r1, c2, add"), HasSubstr("5 in all")));
}

// Nothing selected: the plan is the plain fp16 engine's.
TEST(MixedPrecision, NoSelectionChangesNothing) {
  const Fixture f = basic_block();
  const MixedPrecisionPlan p = f.plan("");
  EXPECT_FALSE(p.any_fp32());
  EXPECT_TRUE(p.conversions.empty());
  for (std::size_t i = 0; i < f.g().layers().size(); ++i) EXPECT_EQ(p.inputs[i], f.g().layer_inputs(static_cast<int>(i)));
  EXPECT_EQ(p.residual[static_cast<std::size_t>(f.layer("c2"))], 0);  // the input x, unconverted
  EXPECT_EQ(p.tensor_fp32, std::vector<bool>(f.g().tensors().size(), false));
}

// The stem in fp32: the input is stored float32 for c1, c1's folded ReLU runs with it; the half block
// reads a half copy of r1 and, as its folded residual, a half copy of x — both made before c2.
TEST(MixedPrecision, AFloatStemFeedsTheHalfBlockThroughCopies) {
  const Fixture f = basic_block();
  const MixedPrecisionPlan p = f.plan("c1");
  const int c1 = f.layer("c1"), r1 = f.layer("r1"), c2 = f.layer("c2");
  const auto n = static_cast<int>(f.g().tensors().size());
  EXPECT_TRUE(p.layer_fp32[static_cast<std::size_t>(c1)]);
  EXPECT_TRUE(p.layer_fp32[static_cast<std::size_t>(r1)]) << "folded into c1: runs as c1";
  EXPECT_FALSE(p.layer_fp32[static_cast<std::size_t>(c2)]);
  EXPECT_TRUE(p.tensor_fp32[0]) << "x: its first reader is c1";
  EXPECT_TRUE(p.tensor_fp32[static_cast<std::size_t>(f.out("r1"))]);
  EXPECT_FALSE(p.tensor_fp32[static_cast<std::size_t>(f.out("r2"))]);
  ASSERT_EQ(p.conversions.size(), 2u);
  EXPECT_EQ(p.conversions[0].step, c2);
  EXPECT_EQ(p.conversions[0].source, f.out("r1"));
  EXPECT_EQ(p.conversions[0].copy, n);
  EXPECT_FALSE(p.conversions[0].to_fp32);
  EXPECT_EQ(p.conversions[1].source, 0);
  EXPECT_EQ(p.conversions[1].copy, n + 1);
  EXPECT_EQ(p.inputs[static_cast<std::size_t>(c2)], std::vector<int>{n});
  EXPECT_EQ(p.residual[static_cast<std::size_t>(c2)], n + 1);
  EXPECT_EQ(p.tensor_fp32.size(), static_cast<std::size_t>(n + 2));
  EXPECT_FALSE(p.tensor_fp32[static_cast<std::size_t>(n)]);
}

// Selecting an activation folded into a half producer does not split them: the activation runs half, and
// a spec that selects only such layers is refused rather than silently giving the plain fp16 engine.
TEST(MixedPrecision, AFoldedLayerRunsAsItsProducer) {
  const Fixture f = basic_block();
  const MixedPrecisionPlan p = f.plan("r1");
  EXPECT_FALSE(p.any_fp32());
  EXPECT_TRUE(p.conversions.empty());
  const FusionPlan fusion = plan_fusion(f.g(), gpu_fusion_traits(f.g()), true);
  try {
    check_selection_takes_effect(f.g(), fusion, select_layers(f.g(), "r1"), p);
    ADD_FAILURE() << "a selection with no effect was accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("r1 is folded into c1 (a half layer; select it too)"));
  }
  const MixedPrecisionPlan with_c1 = f.plan("r1,c1");
  EXPECT_NO_THROW(check_selection_takes_effect(f.g(), fusion, select_layers(f.g(), "r1,c1"), with_c1));
  EXPECT_NO_THROW(check_selection_takes_effect(f.g(), fusion, select_layers(f.g(), ""), f.plan("")));
  // Unfused, the same selection is honoured and its input converted.
  const MixedPrecisionPlan unfused = f.plan("r1", false);
  EXPECT_TRUE(unfused.layer_fp32[static_cast<std::size_t>(f.layer("r1"))]);
  ASSERT_EQ(unfused.conversions.size(), 2u);  // c1's output to float32 for r1, r1's back to half for c2
  EXPECT_TRUE(unfused.conversions[0].to_fp32);
  EXPECT_FALSE(unfused.conversions[1].to_fp32);
}

// A float32 reader of a network input sees the caller's values: the input is stored float32 and its half
// readers read a copy, whichever reads it first.
TEST(MixedPrecision, AFloatReaderOfTheInputGetsItUnrounded) {
  const Fixture f = basic_block();
  const MixedPrecisionPlan p = f.plan("c2");  // c1 (half) reads x first; c2's folded residual reads x too
  const auto n = static_cast<int>(f.g().tensors().size());
  EXPECT_TRUE(p.tensor_fp32[0]);
  ASSERT_EQ(p.conversions.size(), 2u);
  EXPECT_EQ(p.conversions[0].step, f.layer("c1"));
  EXPECT_EQ(p.conversions[0].source, 0);
  EXPECT_FALSE(p.conversions[0].to_fp32);
  EXPECT_EQ(p.inputs[static_cast<std::size_t>(f.layer("c1"))], std::vector<int>{n});
  EXPECT_EQ(p.residual[static_cast<std::size_t>(f.layer("c2"))], 0) << "the input itself, float32";
  EXPECT_EQ(p.conversions[1].source, f.out("r1"));
  EXPECT_TRUE(p.conversions[1].to_fp32);
}

// One copy per tensor and kind, alive from its first to its last reader of that kind.
TEST(MixedPrecision, ATensorReadByManyIsConvertedOnce) {
  const Fixture f({conv8("c1", "x"), conv8("c2", "c1"), conv8("c3", "c1"), "{name: cat, op: concat, inputs: [c2, c3, c1]}"},
                  {"cat"}, {"c1", "c2", "c3"});
  const MixedPrecisionPlan p = f.plan("c1");
  ASSERT_EQ(p.conversions.size(), 1u);
  EXPECT_EQ(p.conversions[0].source, f.out("c1"));
  EXPECT_EQ(p.conversions[0].step, f.layer("c2"));
  EXPECT_EQ(p.conversions[0].last_step, f.layer("cat"));
  const int copy = p.conversions[0].copy;
  EXPECT_EQ(p.inputs[static_cast<std::size_t>(f.layer("c3"))], std::vector<int>{copy});
  EXPECT_EQ(p.inputs[static_cast<std::size_t>(f.layer("cat"))], (std::vector<int>{f.out("c2"), f.out("c3"), copy}));

  // The copies fit the planner's model: a plan over graph + copies has no overlapping live tensors.
  std::vector<PlanTensor> tensors = plan_tensors_with_copies(f.g(), p);
  ASSERT_EQ(tensors.size(), f.g().tensors().size() + 1);
  EXPECT_EQ(tensors.back().first_step, f.layer("c2"));
  EXPECT_EQ(tensors.back().last_step, f.layer("cat"));
  for (PlanTensor& t : tensors) t.bytes = 4096;
  const int steps = static_cast<int>(f.g().layers().size());
  const MemoryPlan plan = plan_memory(tensors, steps, 256);
  for (std::size_t a = 0; a < tensors.size(); ++a)
    for (std::size_t b = a + 1; b < tensors.size(); ++b) {
      const bool live_together = tensors[a].first_step <= tensors[b].last_step && tensors[b].first_step <= tensors[a].last_step;
      const bool disjoint = plan.offsets[a] + tensors[a].bytes <= plan.offsets[b] ||
                            plan.offsets[b] + tensors[b].bytes <= plan.offsets[a];
      if (live_together) {
        EXPECT_TRUE(disjoint) << "tensors " << a << " and " << b << " are alive together and overlap";
      }
    }
}

// A view (flatten where its layout allows) takes its input's precision whatever the spec says.
TEST(MixedPrecision, AViewKeepsItsInputsPrecision) {
  const Fixture f({conv8("c1", "x"), "{name: flat, op: flatten, inputs: [c1]}"}, {"flat"}, {"c1"});
  std::vector<bool> views{false, true};
  const MixedPrecisionPlan p = f.plan("flat", true, views);
  EXPECT_FALSE(p.layer_fp32[1]);
  EXPECT_TRUE(p.conversions.empty());
  const MixedPrecisionPlan q = f.plan("c1,flat", true, views);
  EXPECT_TRUE(q.layer_fp32[1]);
  EXPECT_TRUE(q.conversions.empty());
}

// The search for the fewest leading float32 layers: bisection between a failing and a passing count.
TEST(MixedPrecision, TheSearchFindsTheSmallestPassingPrefix) {
  for (const int threshold : {0, 1, 5, 6, 32, 33, 99, 100}) {
    std::vector<std::pair<int, bool>> trials;
    const int n = smallest_passing_prefix(100, [&](int k) { return k >= threshold; }, &trials);
    EXPECT_EQ(n, threshold);
    EXPECT_LE(trials.size(), 2u + 7u) << "bisection over 100: at most ~log2(100) + 2 evaluations";
    for (const auto& [k, passed] : trials) EXPECT_EQ(passed, k >= threshold) << k;
  }
  EXPECT_EQ(smallest_passing_prefix(10, [](int) { return false; }), -1);
  EXPECT_EQ(smallest_passing_prefix(0, [](int) { return false; }), -1);
  EXPECT_EQ(smallest_passing_prefix(0, [](int) { return true; }), 0);
  // Not monotonic: what it returns passed, and the smaller counts it tried failed.
  std::vector<std::pair<int, bool>> trials;
  const auto odd = [](int k) { return k == 7 || k >= 40; };
  const int n = smallest_passing_prefix(64, odd, &trials);
  EXPECT_TRUE(odd(n));
  for (const auto& [k, passed] : trials) {
    if (k < n) {
      EXPECT_FALSE(passed) << k;
    }
  }
  EXPECT_THROW(smallest_passing_prefix(-1, odd), UsageError);
}

TEST(MixedPrecision, LengthsMustMatchTheGraph) {
  const Fixture f = basic_block();
  const FusionPlan fusion = plan_fusion(f.g(), gpu_fusion_traits(f.g()), true);
  EXPECT_THROW(plan_mixed_precision(f.g(), fusion, {true}, std::vector<bool>(5, false)), UsageError);
  EXPECT_THROW(plan_mixed_precision(f.g(), fusion, std::vector<bool>(5, false), {}), UsageError);
}

// The option is for half engines only, refused early with the command-line name.
TEST(MixedPrecision, OnlyAnFp16EngineTakesFp32Layers) {
  EXPECT_EQ(gpu::engine_options_from("fp16", "heuristic", 8, "", "..conv1").fp32_layers, "..conv1");
  try {
    gpu::engine_options_from("tf32", "heuristic", 8, "", "3");
    ADD_FAILURE() << "tf32 with fp32 layers was accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--fp32-layers"));
    EXPECT_THAT(e.what(), HasSubstr("tf32"));
  }
}

}  // namespace
}  // namespace kiln
