// Graph building and the CPU executor over small models written to a temporary folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu_executor.h"
#include "base/errors.h"
#include "engine/model_dir.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_graph_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes weights.manifest/.bin with a 2x1x3x3 conv weight `w` and bias `b`, and model.yaml = `yaml`.
  void write_model(const std::string& yaml) {
    std::vector<TensorToWrite> t = {{"c.weight", DType::F32, {2, 1, 3, 3}, w_.data()},
                                    {"c.bias", DType::F32, {2}, b_.data()}};
    write_tensor_file(dir_.string(), "weights", t);
    std::ofstream(dir_ / "model.yaml") << yaml;
  }

  fs::path dir_;
  std::vector<float> w_ = {0, 0, 0, 0, 1, 0, 0, 0, 0,   // identity kernel
                           1, 1, 1, 1, 1, 1, 1, 1, 1};  // box sum
  std::vector<float> b_ = {0.5f, -1.f};
};

const char* kHeader =
    "format: kiln-model\nversion: 1\nweights: weights.manifest\n"
    "inputs:\n  - {name: x, shape: [2, 1, 4, 4], dtype: f32}\n";

TEST_F(GraphTest, BuildsShapesAndRunsConvReluChain) {
  write_model(std::string(kHeader) +
              "layers:\n"
              "  - {name: c, op: conv2d, inputs: [x], attributes: {out_channels: 2, kernel_size: 3, padding: 1},\n"
              "     weights: {weight: c.weight, bias: c.bias}}\n"
              "  - {name: r, op: relu, inputs: [c]}\n"
              "  - {name: f, op: flatten, inputs: [r]}\n"
              "outputs: [f]\n");
  LoadedModel m = load_model(dir_.string());
  const Graph& g = m.graph;
  ASSERT_EQ(g.layers().size(), 3u);
  EXPECT_EQ(g.layers()[0]->output_shape(), (Shape{2, 2, 4, 4}));
  EXPECT_EQ(g.layers()[2]->output_shape(), (Shape{2, 32}));
  EXPECT_EQ(g.max_batch(), 2);
  EXPECT_LE(g.plan().arena_bytes, g.plan().sum_bytes);

  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  HostTensor x{"x", {1, 1, 4, 4}, std::vector<float>(16)};
  for (float& v : x.data) v = d(rng);
  CpuExecutor exec(g, m.weights);
  const RunResult r = exec.run({x}, 1, RunOptions{true});  // batch 1 < max batch 2
  ASSERT_EQ(r.outputs.size(), 1u);
  ASSERT_EQ(r.outputs[0].shape, (Shape{1, 32}));
  ASSERT_EQ(r.layers.size(), 3u);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      float box = 0;
      for (int di = -1; di <= 1; ++di)
        for (int dj = -1; dj <= 1; ++dj)
          if (i + di >= 0 && i + di < 4 && j + dj >= 0 && j + dj < 4) box += x.data[(i + di) * 4 + j + dj];
      EXPECT_NEAR(r.outputs[0].data[i * 4 + j], std::max(0.f, x.data[i * 4 + j] + 0.5f), 1e-6);
      EXPECT_NEAR(r.outputs[0].data[16 + i * 4 + j], std::max(0.f, box - 1.f), 1e-5);
    }
  }
}

TEST_F(GraphTest, MaxBatchOverrideScalesEveryShape) {
  write_model(std::string(kHeader) +
              "layers:\n  - {name: r, op: relu, inputs: [x]}\noutputs: [r]\n");
  const Graph g = load_graph(dir_.string(), GraphBuildOptions{8, 256, {}});
  EXPECT_EQ(g.max_batch(), 8);
  EXPECT_EQ(g.tensors()[0].shape, (Shape{8, 1, 4, 4}));
  EXPECT_EQ(g.layers()[0]->output_shape(), (Shape{8, 1, 4, 4}));
}

TEST_F(GraphTest, WrongWeightShapeNamesLayerAndTensor) {
  write_model(std::string(kHeader) +
              "layers:\n"
              "  - {name: c, op: conv2d, inputs: [x], attributes: {out_channels: 3, kernel_size: 3},\n"
              "     weights: {weight: c.weight}}\n"
              "outputs: [c]\n");
  try {
    load_graph(dir_.string());
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.yaml:7"));
    EXPECT_THAT(e.what(), HasSubstr("layer c (conv2d)"));
    EXPECT_THAT(e.what(), HasSubstr("c.weight"));
    EXPECT_THAT(e.what(), HasSubstr("[2,1,3,3]"));
    EXPECT_THAT(e.what(), HasSubstr("[3,1,3,3]"));
  }
}

TEST_F(GraphTest, UnknownOpListsKnownOps) {
  write_model(std::string(kHeader) + "layers:\n  - {name: s, op: swish, inputs: [x]}\noutputs: [s]\n");
  try {
    load_graph(dir_.string());
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("swish"));
    EXPECT_THAT(e.what(), HasSubstr("conv2d"));
    EXPECT_THAT(e.what(), HasSubstr("upsample_nearest"));
  }
}

TEST_F(GraphTest, MismatchedAddShapesNameTheLayer) {
  write_model(std::string(kHeader) +
              "layers:\n"
              "  - {name: p, op: max_pool2d, inputs: [x], attributes: {kernel_size: 2}}\n"
              "  - {name: a, op: add, inputs: [x, p]}\n"
              "outputs: [a]\n");
  try {
    load_graph(dir_.string());
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("layer a (add)"));
    EXPECT_THAT(e.what(), HasSubstr("[2,1,2,2]"));
  }
}

TEST_F(GraphTest, OutputMustBeALayer) {
  write_model(std::string(kHeader) + "layers:\n  - {name: r, op: relu, inputs: [x]}\noutputs: [x]\n");
  EXPECT_THROW(load_graph(dir_.string()), Error);
}

TEST_F(GraphTest, ElementwiseLayersRunInPlaceAndViewsAlias) {
  write_model(std::string(kHeader) +
              "layers:\n"
              "  - {name: c, op: conv2d, inputs: [x], attributes: {out_channels: 2, kernel_size: 3, padding: 1},\n"
              "     weights: {weight: c.weight, bias: c.bias}}\n"
              "  - {name: r, op: relu, inputs: [c]}\n"
              "  - {name: f, op: flatten, inputs: [r]}\n"
              "outputs: [f]\n");
  const Graph g = load_graph(dir_.string());
  const int c = g.output_tensor_of(0), r = g.output_tensor_of(1), f = g.output_tensor_of(2);
  EXPECT_TRUE(g.plan().in_place_taken[r]);
  EXPECT_EQ(g.plan().offsets[r], g.plan().offsets[c]);
  EXPECT_EQ(g.plan().offsets[f], g.plan().offsets[r]);
  // Keeping every layer's output gives each non-view tensor its own block.
  const MemoryPlan all = g.plan_keeping_all();
  EXPECT_NE(all.offsets[r], all.offsets[c]);
}

TEST_F(GraphTest, InputWhoseByteCountOverflowsNamesItsLine) {
  write_model("format: kiln-model\nversion: 1\nweights: weights.manifest\n"
              "inputs:\n  - {name: x, shape: [2147483648, 2147483648, 2147483648, 2], dtype: f32}\n"
              "layers:\n  - {name: r, op: relu, inputs: [x]}\noutputs: [r]\n");
  try {
    load_graph(dir_.string());
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.yaml:5: input 'x': shape [2147483648,2147483648,2147483648,2] "
                                    "overflows 64-bit byte counts"));
  }
}

TEST_F(GraphTest, MaxBatchThatOverflowsByteCountsNamesTheInput) {
  write_model(std::string(kHeader) + "layers:\n  - {name: r, op: relu, inputs: [x]}\noutputs: [r]\n");
  try {
    load_graph(dir_.string(), GraphBuildOptions{std::int64_t{1} << 62, 256, {}});
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.yaml:5: input 'x' at max batch 4611686018427387904: shape "
                                    "[4611686018427387904,1,4,4] overflows 64-bit byte counts"));
  }
}

TEST_F(GraphTest, CpuRunRejectsAnInputOfTheRightSizeButWrongShape) {
  write_model(std::string(kHeader) + "layers:\n  - {name: r, op: relu, inputs: [x]}\noutputs: [r]\n");
  const LoadedModel m = load_model(dir_.string());
  const CpuExecutor exec(m.graph, m.weights);
  try {
    exec.run({HostTensor{"x", {1, 16, 1, 1}, std::vector<float>(16)}}, 1);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x' has shape [1,16,1,1], expected [1,1,4,4]"));
  }
  // An empty shape means "not given": only the element count is checked.
  EXPECT_EQ(exec.run({HostTensor{"x", {}, std::vector<float>(16, -1.f)}}, 1).outputs.at(0).data,
            std::vector<float>(16, 0.f));
}

// 4100 layers of 2^52 bytes each: every tensor is valid, their total overflows 64 bits. The planner's
// error becomes a ModelError naming the layer whose output tipped it over.
TEST_F(GraphTest, PlannerOverflowNamesTheLayer) {
  std::string yaml =
      "format: kiln-model\nversion: 1\nweights: weights.manifest\n"
      "inputs:\n  - {name: x, shape: [1, 2147483648, 524288], dtype: f32}\nlayers:\n";
  std::string prev = "x";
  for (int i = 0; i < 4100; ++i) {
    const std::string name = "r" + std::to_string(i);
    yaml += "  - {name: " + name + ", op: relu, inputs: [" + prev + "]}\n";
    prev = name;
  }
  write_model(yaml + "outputs: [" + prev + "]\n");
  try {
    load_graph(dir_.string());
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), ::testing::MatchesRegex(".*model.yaml:[0-9]+: layer r[0-9]+ \\(relu\\): its output: cannot plan "
                                                  "its memory: the total of all tensors' bytes overflows 64 bits.*"));
  }
}

TEST_F(GraphTest, CpuArenaBeyondMemoryIsATypedErrorNotBadAlloc) {
  write_model(std::string(kHeader) + "layers:\n  - {name: r, op: relu, inputs: [x]}\noutputs: [r]\n");
  // 2^40 x 16 floats = 2^46 bytes (64 TiB): a valid plan, but more memory than the host has.
  const LoadedModel m = load_model(dir_.string(), GraphBuildOptions{std::int64_t{1} << 40, 256, {}});
  const CpuExecutor exec(m.graph, m.weights);
  try {
    exec.run({HostTensor{"x", {1, 1, 4, 4}, std::vector<float>(16)}}, 1);
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), HasSubstr("the CPU reference path: the activation arena for max batch 1099511627776 needs "
                                    "70368744177668 bytes (65536.0 GiB), above the host memory limit"));
  }
}

TEST_F(GraphTest, MissingModelFolderIsAFormatError) {
  try {
    load_graph((dir_ / "nope").string());
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nope"));
  }
}

}  // namespace
}  // namespace kiln
