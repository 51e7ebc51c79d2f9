// The GPU engine's fusion rules (engine/fusion.h), CUDA-free: which layers fold into which, over small
// graphs with the declarations a convolution, an add and an activation make on the GPU.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/errors.h"
#include "engine/fusion.h"
#include "engine/model_dir.h"
#include "tests/common/test_model.h"
#include "tests/engine/fusion_graphs.h"

namespace kiln {
namespace {

using test::conv8;
using test::conv8_weights;
using test::gpu_fusion_traits;
using test::TestModel;

int index_of(const Graph& g, const std::string& name) {
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    if (g.layers()[i]->name() == name) return static_cast<int>(i);
  }
  ADD_FAILURE() << "no layer " << name;
  return -1;
}
int tensor_of(const Graph& g, const std::string& layer) { return g.output_tensor_of(index_of(g, layer)); }

struct Fixture {
  TestModel model;
  LoadedModel loaded;
  Fixture(const std::vector<std::string>& layers, const std::vector<std::string>& outputs,
          const std::vector<std::string>& convs)
      : model({{"x", {2, 8, 6, 6}}}, layers, outputs, conv8_weights(convs)), loaded(load_model(model.dir())) {}
  const Graph& g() const { return loaded.graph; }
  FusionPlan plan(bool residual = true) const { return plan_fusion(g(), gpu_fusion_traits(g()), residual); }
};

// ResNet's basic block: the add and the ReLU after it go into the second convolution, which reads the
// block's input (made before it) as the residual.
TEST(Fusion, ResidualAddAndItsReluFoldIntoTheConvolution) {
  const Fixture f({conv8("c1", "x"), "{name: r1, op: relu, inputs: [c1]}", conv8("c2", "r1"),
                   "{name: add, op: add, inputs: [c2, x]}", "{name: r2, op: relu, inputs: [add]}"},
                  {"r2"}, {"c1", "c2"});
  const FusionPlan p = f.plan();
  const Graph& g = f.g();
  const int c1 = index_of(g, "c1"), c2 = index_of(g, "c2");
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(g, "r1"))], c1);
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(g, "add"))], c2);
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(g, "r2"))], c2);
  EXPECT_EQ(p.epilogues[static_cast<std::size_t>(c2)], (std::vector<int>{index_of(g, "add"), index_of(g, "r2")}));
  EXPECT_EQ(p.residual[static_cast<std::size_t>(c2)], 0);  // tensor 0: the input x
  EXPECT_EQ(p.residual[static_cast<std::size_t>(c1)], -1);
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(c2)], -1);
}

// A bottleneck with a downsample traced after the block's last convolution (torchvision's order): the
// last convolution cannot read the downsample's output, which does not exist yet when it runs, so the add
// goes into the downsample convolution, with the last convolution's output as its residual.
TEST(Fusion, ResidualMustExistWhenTheConvolutionRuns) {
  const Fixture f({conv8("c3", "x"), conv8("down", "x"), "{name: add, op: add, inputs: [c3, down]}",
                   "{name: r, op: relu, inputs: [add]}"},
                  {"r"}, {"c3", "down"});
  const FusionPlan p = f.plan();
  const Graph& g = f.g();
  const int down = index_of(g, "down");
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(g, "add"))], down);
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(g, "r"))], down);
  EXPECT_EQ(p.residual[static_cast<std::size_t>(down)], tensor_of(g, "c3"));
  EXPECT_EQ(p.residual[static_cast<std::size_t>(index_of(g, "c3"))], -1);
}

// Off (GpuEngineOptions::fuse_residual false): the add stays a layer, and the ReLU folds into it.
TEST(Fusion, WithoutResidualFusionTheReluFoldsIntoTheAdd) {
  const Fixture f({conv8("c1", "x"), "{name: add, op: add, inputs: [c1, x]}", "{name: r, op: relu, inputs: [add]}"},
                  {"r"}, {"c1"});
  const FusionPlan p = f.plan(false);
  const Graph& g = f.g();
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(g, "add"))], -1);
  EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(g, "r"))], index_of(g, "add"));
  EXPECT_EQ(p.residual[static_cast<std::size_t>(index_of(g, "c1"))], -1);
  const FusionPlan on = f.plan(true);
  EXPECT_EQ(on.folded_into[static_cast<std::size_t>(index_of(g, "add"))], index_of(g, "c1"));
}

// What must not fold: a convolution whose output has another reader or is a model output, an add of a
// tensor to itself, an add behind a folded activation, and nothing at all when the traits say so.
TEST(Fusion, RefusesWhatWouldChangeTheResult) {
  {
    const Fixture f({conv8("c1", "x"), "{name: add, op: add, inputs: [c1, x]}", "{name: m, op: relu, inputs: [c1]}"},
                    {"add", "m"}, {"c1"});
    const FusionPlan p = f.plan();
    EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(f.g(), "add"))], -1) << "c1 has two readers";
  }
  {
    const Fixture f({conv8("c1", "x"), "{name: add, op: add, inputs: [c1, x]}"}, {"c1", "add"}, {"c1"});
    EXPECT_EQ(f.plan().folded_into[static_cast<std::size_t>(index_of(f.g(), "add"))], -1) << "c1 is an output";
  }
  {
    const Fixture f({conv8("c1", "x"), "{name: add, op: add, inputs: [c1, c1]}"}, {"add"}, {"c1"});
    EXPECT_EQ(f.plan().folded_into[static_cast<std::size_t>(index_of(f.g(), "add"))], -1) << "c1 + c1";
  }
  {
    const Fixture f({conv8("c1", "x"), "{name: r, op: relu, inputs: [c1]}", "{name: add, op: add, inputs: [r, x]}"},
                    {"add"}, {"c1"});
    const FusionPlan p = f.plan();
    EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(f.g(), "r"))], index_of(f.g(), "c1"));
    EXPECT_EQ(p.folded_into[static_cast<std::size_t>(index_of(f.g(), "add"))], -1) << "relu(c1) + x: order";
  }
  {
    const Fixture f({conv8("c1", "x"), "{name: add, op: add, inputs: [c1, x]}"}, {"add"}, {"c1"});
    const FusionPlan p = plan_fusion(f.g(), std::vector<FusionTraits>(f.g().layers().size()), true);
    for (const int into : p.folded_into) EXPECT_EQ(into, -1);
    EXPECT_THROW(plan_fusion(f.g(), {}, true), UsageError);
  }
}

}  // namespace
}  // namespace kiln
