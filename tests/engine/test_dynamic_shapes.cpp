// Dynamic height × width on the CPU side (Note [input sizes] in engine/graph.cpp): the graph at the
// range's largest size, graphs for other sizes, the CPU executor's per-size cache, and every error a
// caller or a file can cause, each naming the input, size and range (or the layer).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "base/errors.h"
#include "engine/cpu_executor.h"
#include "engine/model_dir.h"
#include "engine/runner.h"
#include "engine/shape_cache.h"
#include "tests/common/test_model.h"

namespace kiln {
namespace {

using test::TestModel;
using testing::HasSubstr;

using test::make_unet_like;

class DynamicModel : public testing::Test {
 protected:
  void SetUp() override {
    model_ = make_unet_like({1, 2, 8, 12});
    test::make_dynamic(model_->dir(), {4, 4}, {32, 40});
  }
  GraphBuildOptions at_batch(std::int64_t b) const {
    GraphBuildOptions o;
    o.max_batch = b;
    return o;
  }
  std::unique_ptr<TestModel> model_;
};

TEST_F(DynamicModel, TheGraphIsBuiltForTheLargestSize) {
  const Graph g = load_graph(model_->dir(), at_batch(3));
  EXPECT_TRUE(g.dynamic());
  EXPECT_EQ(g.input_shapes(), (std::vector<Shape>{{3, 2, 32, 40}}));
  EXPECT_EQ(g.tensors()[static_cast<std::size_t>(g.output_tensors()[0])].shape, (Shape{3, 2, 32, 40}));
  EXPECT_EQ(g.spec().inputs[0].shape, (Shape{1, 2, 8, 12}));  // the example size is kept in the spec
}

TEST_F(DynamicModel, ItsArenaIsThatOfAFixedExportOfTheLargestSize) {
  const Graph dynamic = load_graph(model_->dir(), at_batch(2));
  const auto fixed_model = make_unet_like({1, 2, 32, 40});
  const Graph fixed = load_graph(fixed_model->dir(), at_batch(2));
  EXPECT_FALSE(fixed.dynamic());
  EXPECT_EQ(dynamic.plan().arena_bytes, fixed.plan().arena_bytes);
  EXPECT_EQ(dynamic.plan().offsets, fixed.plan().offsets);
}

TEST_F(DynamicModel, OtherSizesGiveTheirOwnGraphWithinTheLargestArena) {
  const Graph g = load_graph(model_->dir(), at_batch(2));
  const Graph small = g.at_input_shapes({{2, 2, 6, 10}});
  EXPECT_EQ(small.tensors()[static_cast<std::size_t>(small.output_tensors()[0])].shape, (Shape{2, 2, 6, 10}));
  EXPECT_LT(small.plan().arena_bytes, g.plan().arena_bytes);
  for (std::size_t t = 0; t < g.tensors().size(); ++t) EXPECT_LE(small.tensors()[t].bytes, g.tensors()[t].bytes);
}

TEST_F(DynamicModel, ASizeOutsideTheRangeIsAUsageErrorNamingTheRange) {
  const Graph g = load_graph(model_->dir(), at_batch(1));
  try {
    g.at_input_shapes({{1, 2, 2, 12}});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x' has shape [1,2,2,12]"));
    EXPECT_THAT(e.what(), HasSubstr("[N,2,H,W] with 4 <= H <= 32 and 4 <= W <= 40"));
    EXPECT_THAT(e.what(), HasSubstr("model.yaml:"));
  }
  EXPECT_THAT(g.input_shape_problem(0, {1, 2, 8, 41}), HasSubstr("4 <= W <= 40"));
  EXPECT_THAT(g.input_shape_problem(0, {1, 3, 8, 8}), HasSubstr("has shape [1,3,8,8]"));  // channels are fixed
  EXPECT_THAT(g.input_shape_problem(0, {1, 2, 8}), HasSubstr("has shape [1,2,8]"));
  EXPECT_EQ(g.input_shape_problem(0, {5, 2, 4, 40}), "");
}

TEST_F(DynamicModel, ASizeALayerCannotTakeNamesTheLayerAndTheSize) {
  const Graph g = load_graph(model_->dir(), at_batch(1));
  try {
    g.at_input_shapes({{1, 2, 9, 12}});  // pooled to 4, back up to 8: concat with 9 rows fails
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("at input shape [1,2,9,12]"));
    EXPECT_THAT(e.what(), HasSubstr("layer cat (concat)"));
  }
}

TEST(FixedModel, AnotherSizeSaysTheSizeIsFixedAtExport) {
  const auto model = make_unet_like({1, 2, 8, 8});
  const Graph g = load_graph(model->dir(), GraphBuildOptions{});
  EXPECT_FALSE(g.dynamic());
  EXPECT_THAT(g.input_shape_problem(0, {1, 2, 16, 16}), HasSubstr("its size 8×8 is fixed: export with --dynamic-hw"));
  EXPECT_THROW(g.at_input_shapes({{1, 2, 16, 16}}), UsageError);
  std::vector<HostTensor> in{HostTensor{"x", {1, 2, 16, 16}, std::vector<float>(512, 0.5f)}};
  EXPECT_THROW(match_inputs(g, in, "in.manifest"), UsageError);
}

// Each size's result from the one dynamic executor equals a fixed model of that size (same weights).
TEST_F(DynamicModel, OneExecutorRunsEverySizeAndBatchLikeAFixedModelOfThatSize) {
  const LoadedModel m = load_model(model_->dir(), at_batch(3));
  const CpuExecutor executor(m.graph, m.weights);
  const std::vector<Shape> sizes{{1, 2, 8, 12}, {3, 2, 16, 16}, {2, 2, 4, 40}, {1, 2, 32, 40}, {3, 2, 8, 12}, {1, 2, 6, 6}};
  std::uint32_t seed = 11;
  for (const Shape& s : sizes) {
    const std::vector<HostTensor> in = test::random_inputs_of(m.graph, {s}, seed++);
    const RunResult got = executor.run(match_inputs(m.graph, in, "test"), s[0]);
    const auto fixed_model = make_unet_like(Layer::at_batch(s, 3));
    const LoadedModel f = load_model(fixed_model->dir(), at_batch(3));
    const RunResult want = CpuExecutor(f.graph, f.weights).run(in, s[0]);
    ASSERT_EQ(got.outputs.size(), 1u);
    EXPECT_EQ(got.outputs[0].shape, (Shape{s[0], 2, s[2], s[3]}));
    EXPECT_EQ(got.outputs[0].data, want.outputs[0].data) << shape_to_string(s);
    double sum = 0;
    for (float v : got.outputs[0].data) sum += std::fabs(v);
    EXPECT_GT(sum, 0.0);
  }
  // The largest size runs on the graph built at load; the five others were cached once each.
  EXPECT_EQ(executor.cached_shapes(), 4u);
}

TEST_F(DynamicModel, TheExecutorKeepsABoundedNumberOfSizes) {
  const LoadedModel m = load_model(model_->dir(), at_batch(1));
  const CpuExecutor executor(m.graph, m.weights);
  for (std::int64_t w = 4; w < 4 + 2 * static_cast<std::int64_t>(CpuExecutor::kShapeCacheCapacity) + 4; w += 2) {
    executor.run(test::random_inputs_of(m.graph, {{1, 2, 4, w}}, 1), 1);
  }
  EXPECT_EQ(executor.cached_shapes(), CpuExecutor::kShapeCacheCapacity);
}

TEST_F(DynamicModel, MatchInputsTakesAnySizeInRangeAndOneBatch) {
  const Graph g = load_graph(model_->dir(), at_batch(2));
  std::vector<HostTensor> in{HostTensor{"x", {2, 2, 6, 10}, std::vector<float>(240, 0.5f)}};
  EXPECT_EQ(match_inputs(g, in, "in.manifest")[0].shape, (Shape{2, 2, 6, 10}));
  in[0].shape = {2, 2, 64, 10};
  try {
    match_inputs(g, in, "in.manifest");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("in.manifest: input 'x' has shape [2,2,64,10]"));
  }
}

TEST(ShapeCacheTest, BuildsOnceKeepsTheMostRecentAndCachesNoFailure) {
  ShapeCache<int> cache(2);
  int built = 0;
  const auto make = [&](int v) {
    return [&built, v] {
      ++built;
      return std::make_shared<int>(v);
    };
  };
  const ShapeCache<int>::Key a{{1, 1}}, b{{2, 2}}, c{{3, 3}};
  EXPECT_EQ(*cache.get(a, make(1)), 1);
  EXPECT_EQ(*cache.get(a, make(9)), 1);  // cached: not rebuilt
  EXPECT_EQ(*cache.get(b, make(2)), 2);
  cache.get(a, make(9));                  // a is now the most recent
  EXPECT_EQ(*cache.get(c, make(3)), 3);   // drops b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find(b), nullptr);
  EXPECT_NE(cache.find(a), nullptr);
  EXPECT_EQ(built, 3);
  EXPECT_THROW(cache.get(b, []() -> std::shared_ptr<int> { throw UsageError("no"); }), UsageError);
  EXPECT_EQ(cache.find(b), nullptr);
  EXPECT_EQ(cache.builds(), 3u);
}

}  // namespace
}  // namespace kiln
