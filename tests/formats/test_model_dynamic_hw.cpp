// model.yaml's dynamic height × width (min_hw / max_hw on an input, formats/README.md): the valid
// form and each way a file can get it wrong, every message naming the file, line and field.
#include "formats/model_spec.h"
#include "model_text.h"
#include "test_util.h"

namespace kiln {
namespace {
using test::model_error;
using test::with;
using testing::HasSubstr;

const std::string kInput = "{name: input, shape: [1, 3, 128, 128], dtype: f32}";

std::string with_range(const std::string& keys) {
  return with(kInput, "{name: input, shape: [1, 3, 128, 128], dtype: f32, " + keys + "}");
}

TEST(ModelDynamicHw, RangeIsRead) {
  const ModelSpec s = parse_model(with_range("min_hw: [16, 32], max_hw: [1088, 1920]"), "m.yaml");
  ASSERT_EQ(s.inputs.size(), 1u);
  EXPECT_TRUE(s.inputs[0].dynamic_hw());
  EXPECT_EQ(s.inputs[0].min_hw, (std::vector<std::int64_t>{16, 32}));
  EXPECT_EQ(s.inputs[0].max_hw, (std::vector<std::int64_t>{1088, 1920}));
  EXPECT_EQ(s.inputs[0].shape, (Shape{1, 3, 128, 128}));  // the example size stays the shape
}

TEST(ModelDynamicHw, AnInputWithoutARangeIsFixed) {
  const ModelSpec s = parse_model(test::kModel, "m.yaml");
  EXPECT_FALSE(s.inputs[0].dynamic_hw());
  EXPECT_TRUE(s.inputs[0].min_hw.empty());
}

TEST(ModelDynamicHw, BothBoundsAreNeeded) {
  EXPECT_THAT(model_error(with_range("max_hw: [256, 256]")),
              HasSubstr("m.yaml:6: input 'input': min_hw and max_hw go together"));
  EXPECT_THAT(model_error(with_range("min_hw: [16, 16]")), HasSubstr("min_hw and max_hw go together"));
}

TEST(ModelDynamicHw, EachBoundIsAPairInRange) {
  EXPECT_THAT(model_error(with_range("min_hw: [16], max_hw: [256, 256]")),
              HasSubstr("input 'input': min_hw: expected 2 to 2 entries, found 1"));
  EXPECT_THAT(model_error(with_range("min_hw: [0, 16], max_hw: [256, 256]")),
              HasSubstr("min_hw: expected 1 <= d <= 65536, found 0"));
  EXPECT_THAT(model_error(with_range("min_hw: [16, 16], max_hw: [256, 70000]")),
              HasSubstr("max_hw: expected 1 <= d <= 65536, found 70000"));
  EXPECT_THAT(model_error(with_range("min_hw: [16, a], max_hw: [256, 256]")),
              HasSubstr("min_hw: expected an integer"));
  EXPECT_THAT(model_error(with_range("min_hw: 16, max_hw: [256, 256]")), HasSubstr("min_hw: expected a list"));
}

TEST(ModelDynamicHw, TheExampleSizeLiesInTheRange) {
  EXPECT_THAT(model_error(with_range("min_hw: [200, 16], max_hw: [256, 256]")),
              HasSubstr("the example height 128 is outside min_hw..max_hw 200..256"));
  EXPECT_THAT(model_error(with_range("min_hw: [16, 16], max_hw: [256, 64]")),
              HasSubstr("the example width 128 is outside min_hw..max_hw 16..64"));
}

TEST(ModelDynamicHw, OnlyFourDimensionalInputsHaveARange) {
  const std::string text = with(kInput, "{name: input, shape: [1, 3, 128], dtype: f32, min_hw: [1, 1], max_hw: [9, 9]}");
  EXPECT_THAT(model_error(text), HasSubstr("only a 4-D [N, C, H, W] input has a dynamic height × width, this one has rank 3"));
}

}  // namespace
}  // namespace kiln
