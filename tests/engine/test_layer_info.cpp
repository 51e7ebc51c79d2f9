// What `kiln inspect` lists per layer: attributes as model.yaml writes them, weights with role, shape and
// dtype, parameter counts, the JSON form, and the aligned text table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/layer_info.h"
#include "engine/cli/text_table.h"
#include "engine/model_dir.h"
#include "tests/common/test_model.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

Graph conv_model_graph(const test::TestModel& m) { return load_graph(m.dir()); }

class ConvModel : public ::testing::Test {
 protected:
  ConvModel()
      : model_({{"x", {2, 3, 8, 8}}},
               {"{name: c, op: conv2d, inputs: [x], attributes: {out_channels: 4, kernel_size: [3, 3], stride: 2, "
                "padding: 1}, weights: {weight: c.w, bias: c.b}}",
                "{name: r, op: leaky_relu, inputs: [c], attributes: {negative_slope: 0.25}}"},
               {"r"}, {{"c.w", {4, 3, 3, 3}}, {"c.b", {4}}}, 1, DType::F16) {}
  test::TestModel model_;
};

TEST_F(ConvModel, AttributesWeightsAndParametersAsText) {
  const Graph g = conv_model_graph(model_);
  EXPECT_EQ(attributes_text(g.spec().layers[0].attributes), "kernel_size=[3,3] out_channels=4 padding=1 stride=2");
  EXPECT_EQ(attributes_text(g.spec().layers[1].attributes), "negative_slope=0.25");
  EXPECT_EQ(weights_text(layer_weights(g, 0)), "weight [4,3,3,3] f16, bias [4] f16");
  EXPECT_EQ(weights_text(layer_weights(g, 1)), "");
  EXPECT_EQ(layer_parameters(g, 0), 4u * 3 * 3 * 3 + 4);
  EXPECT_EQ(parameter_count(g), 112u);
  EXPECT_EQ(with_thousands(11689512), "11,689,512");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1000), "1,000");
}

TEST_F(ConvModel, JsonHasShapesAsArraysAndTypedAttributes) {
  const Json j = model_json(conv_model_graph(model_), "cpu");
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["inputs"][0]["shape"], Json({2, 3, 8, 8}));
  EXPECT_EQ(j["outputs"][0]["name"], "r");
  EXPECT_EQ(j["parameters"], 112);
  const Json& conv = j["layers"][0];
  EXPECT_EQ(conv["op"], "conv2d");
  EXPECT_EQ(conv["inputs"], Json({"x"}));
  EXPECT_EQ(conv["output_shape"], Json({2, 4, 4, 4}));
  EXPECT_EQ(conv["attributes"]["kernel_size"], Json({3, 3}));
  EXPECT_EQ(conv["attributes"]["stride"], 2);
  EXPECT_EQ(
      conv["weights"][0],
      Json({{"role", "weight"}, {"name", "c.w"}, {"shape", {4, 3, 3, 3}}, {"dtype", "f16"}, {"parameters", 108}}));
  EXPECT_EQ(conv["parameters"], 112);
  EXPECT_GT(conv["flops"].get<double>(), 0.0);
  EXPECT_EQ(j["layers"][1]["attributes"]["negative_slope"], 0.25);
}

TEST(TextTable, ColumnsAreAsWideAsTheirWidestCell) {
  cli::TextTable t({"#", "layer", "op"});
  t.add_row({"0", "encoder.conv1", "conv2d"});
  t.add_row({"10", "r", ""});
  EXPECT_EQ(t.str(),
            "#   layer          op\n"
            "0   encoder.conv1  conv2d\n"
            "10  r\n");
}

}  // namespace
}  // namespace kiln
