// parse_model: layers, definition order, outputs, attributes and weights maps.
#include <cmath>

#include "formats/model_spec.h"
#include "model_text.h"
#include "test_util.h"

namespace kiln {
namespace {
using test::model_error;
using test::with;
using testing::HasSubstr;

const std::string kRelu = "  - name: enc.1\n    op: relu\n    inputs: [enc.0]\n";

TEST(ModelLayers, KeysAndTypes) {
  EXPECT_THAT(model_error(with("    op: relu", "    op: relu\n    attribute: {}")),
              HasSubstr("m.yaml:15: layers[1]: unknown key 'attribute' (expected one of: name, op, inputs, "
                        "attributes, weights)"));
  EXPECT_THAT(model_error(with("    op: relu\n", "")), HasSubstr("m.yaml:13: layers[1]: missing key 'op'"));
  EXPECT_THAT(model_error(with("  - name: enc.1\n    op: relu", "  - op: relu")),
              HasSubstr("m.yaml:13: layers[1]: missing key 'name'"));
  EXPECT_THAT(model_error(with("    inputs: [enc.0]\n", "")), HasSubstr("m.yaml:13: layers[1]: missing key 'inputs'"));
  EXPECT_THAT(model_error(with("    op: relu", "    op: [relu]")),
              HasSubstr("m.yaml:14: layer 'enc.1': op: expected a string, found a list"));
  EXPECT_THAT(model_error(with("    op: relu", "    op: re lu")),
              HasSubstr("m.yaml:14: layer 'enc.1': op: name 're lu' contains ' '"));
  EXPECT_THAT(model_error(with("    inputs: [enc.0]", "    inputs: enc.0")),
              HasSubstr("m.yaml:15: layer 'enc.1': inputs: expected a list, found the string 'enc.0'"));
  EXPECT_THAT(model_error(with("    inputs: [enc.0]", "    inputs: []")),
              HasSubstr("m.yaml:15: layer 'enc.1': inputs: expected 1 to 100000 entries, found 0"));
  EXPECT_THAT(model_error(with("    inputs: [enc.0]", "    inputs: [{a: b}]")),
              HasSubstr("m.yaml:15: layer 'enc.1': inputs: expected a string, found a map"));
  EXPECT_THAT(model_error(with(kRelu, "  - relu\n")), HasSubstr("m.yaml:13: layers[1]: expected a map, found the "
                                                                "string 'relu'"));
  EXPECT_THAT(model_error(with("    op: relu", "    op: relu\n    op: tanh")),
              HasSubstr("m.yaml:15: layers[1]: key 'op' appears twice"));
}

TEST(ModelLayers, LayerCount) {
  const std::string text =
      "format: kiln-model\nversion: 1\nweights: w.manifest\ninputs: [{name: x, shape: [1], dtype: f32}]\n"
      "layers: []\noutputs: [x]\n";
  EXPECT_THAT(model_error(text), HasSubstr("m.yaml:5: layers: expected 1 to 100000 entries, found 0"));
}

TEST(ModelLayers, NameRules) {
  EXPECT_THAT(model_error(with("  - name: enc.1", "  - name: enc#1")),
              HasSubstr("m.yaml:13: layers[1]: name: name 'enc#1' contains '#'"));
  EXPECT_THAT(model_error(with("  - name: enc.1", "  - name: " + std::string(257, 'x'))),
              HasSubstr("is 257 characters long, expected at most 256"));
}

TEST(ModelLayers, DuplicateNames) {
  EXPECT_THAT(model_error(with("  - name: enc.1", "  - name: enc.0")),
              HasSubstr("m.yaml:13: name 'enc.0' is already used by the input or layer on line 8"));
  EXPECT_THAT(model_error(with("  - name: enc.1", "  - name: input")),
              HasSubstr("m.yaml:13: name 'input' is already used by the input or layer on line 6"));
  EXPECT_THAT(model_error(with("  - {name: input, shape: [1, 3, 128, 128], dtype: f32}",
                               "  - {name: input, shape: [1], dtype: f32}\n  - {name: input, shape: [1], dtype: f32}")),
              HasSubstr("m.yaml:7: name 'input' is already used by the input or layer on line 6"));
}

TEST(ModelLayers, UseBeforeDefine) {
  EXPECT_THAT(model_error(with("    inputs: [input]", "    inputs: [enc.1]")),
              HasSubstr("m.yaml:10: layer 'enc.0': input 'enc.1' is used before it is defined (layer 'enc.1' is on "
                        "line 13; layers run in file order)"));
  EXPECT_THAT(model_error(with("    inputs: [enc.0]", "    inputs: [enc.1]")),
              HasSubstr("m.yaml:15: layer 'enc.1': input 'enc.1' is the layer's own output"));
  EXPECT_THAT(model_error(with("    inputs: [enc.0]", "    inputs: [enc.0, nowhere]")),
              HasSubstr("m.yaml:15: layer 'enc.1': input 'nowhere' is not defined: expected a model input or an "
                        "earlier layer"));
}

TEST(ModelLayers, SameInputTwiceIsAllowed) {
  EXPECT_EQ(parse_model(with("    inputs: [enc.0]", "    inputs: [enc.0, enc.0]"), "m.yaml").layers[1].inputs.size(),
            2u);
}

TEST(ModelLayers, Outputs) {
  EXPECT_THAT(model_error(with("outputs: [enc.1]", "outputs: [enc.2]")),
              HasSubstr("m.yaml:16: output 'enc.2' is not defined: expected the name of a model input or a layer"));
  EXPECT_THAT(model_error(with("outputs: [enc.1]", "outputs: [enc.1, enc.0, enc.1]")),
              HasSubstr("m.yaml:16: output 'enc.1' is listed twice"));
  EXPECT_THAT(model_error(with("outputs: [enc.1]", "outputs: []")),
              HasSubstr("m.yaml:16: outputs: expected 1 to 64 entries, found 0"));
  std::string many = "outputs: [enc.1";
  for (int i = 0; i < 64; ++i) many += ", enc.1";
  EXPECT_THAT(model_error(with("outputs: [enc.1]", many + "]")), HasSubstr("outputs: expected 1 to 64 entries, "
                                                                           "found 65"));
}

TEST(ModelLayers, AttributeValueErrors) {
  auto attr = [](const std::string& value) {
    return model_error(with("    inputs: [enc.0]", "    inputs: [enc.0]\n    attributes: {k: " + value + "}"));
  };
  EXPECT_THAT(attr("{a: 1}"), HasSubstr("m.yaml:16: layer 'enc.1': attribute 'k': expected a number, boolean, "
                                        "string or flat list of numbers, found a map"));
  EXPECT_THAT(attr("[[1, 2]]"), HasSubstr("m.yaml:16: layer 'enc.1': attribute 'k': list entries must be numbers, "
                                          "found a list"));
  EXPECT_THAT(attr("[a, b]"), HasSubstr("attribute 'k': list entries must be numbers, found the string 'a'"));
  EXPECT_THAT(attr("[1, true]"), HasSubstr("list entries must be numbers, found the boolean true"));
  EXPECT_THAT(attr("~"), HasSubstr("attribute 'k': expected a number, boolean, string or flat list of numbers, "
                                   "found nothing (null)"));
  EXPECT_THAT(attr("99999999999999999999"), HasSubstr("attribute 'k': number '99999999999999999999' is out of range"));
  EXPECT_THAT(attr("[1, 1e999]"), HasSubstr("attribute 'k': number '1e999' is out of range"));
  EXPECT_THAT(model_error(with("padding: 1", "padding: 1, padding: 2")),
              HasSubstr("m.yaml:11: layer 'enc.0': attribute 'padding' appears twice"));
  EXPECT_THAT(model_error(with("padding: 1", "pad ding: 1")),
              HasSubstr("m.yaml:11: layer 'enc.0': attribute key: name 'pad ding' contains ' '"));
  EXPECT_THAT(model_error(with("    inputs: [enc.0]", "    inputs: [enc.0]\n    attributes: [1, 2]")),
              HasSubstr("m.yaml:16: layer 'enc.1': attributes: expected a map, found a list"));
}

TEST(ModelLayers, AttributeScalarResolution) {
  const ModelSpec s = parse_model(
      with("    inputs: [enc.0]",
           "    inputs: [enc.0]\n    attributes: {a: +7, b: .5, c: 1e3, d: False, e: .inf, f: -.inf, g: .nan, h: 1_0,"
           " i: 0x10, j: [], k: -0, l: 'true'}"),
      "m.yaml");
  const auto& v = s.layers[1].attributes.values();
  EXPECT_EQ(v.at("a").kind, AttrValue::Kind::Int);
  EXPECT_EQ(v.at("a").i, 7);
  EXPECT_EQ(v.at("b").kind, AttrValue::Kind::Float);
  EXPECT_EQ(v.at("b").f, 0.5);
  EXPECT_EQ(v.at("c").f, 1000.0);
  EXPECT_EQ(v.at("d").kind, AttrValue::Kind::Bool);
  EXPECT_FALSE(v.at("d").b);
  EXPECT_TRUE(std::isinf(v.at("e").f) && v.at("e").f > 0);
  EXPECT_TRUE(std::isinf(v.at("f").f) && v.at("f").f < 0);
  EXPECT_TRUE(std::isnan(v.at("g").f));
  EXPECT_EQ(v.at("h").kind, AttrValue::Kind::String);  // YAML 1.2 core schema: no digit separators
  EXPECT_EQ(v.at("i").kind, AttrValue::Kind::String);  // nor hex; an op expecting an int will say so
  EXPECT_EQ(v.at("j").kind, AttrValue::Kind::IntList);
  EXPECT_TRUE(v.at("j").ints.empty());
  EXPECT_EQ(v.at("k").kind, AttrValue::Kind::Int);
  EXPECT_EQ(v.at("l").kind, AttrValue::Kind::String);
  EXPECT_EQ(v.at("l").line, 16);
}

TEST(ModelLayers, EmptyAttributesAndWeights) {
  const ModelSpec s =
      parse_model(with("    inputs: [enc.0]", "    inputs: [enc.0]\n    attributes:\n    weights: {}"), "m.yaml");
  EXPECT_TRUE(s.layers[1].attributes.values().empty());
  EXPECT_TRUE(s.layers[1].weights.empty());
}

TEST(ModelLayers, WeightsMap) {
  EXPECT_THAT(model_error(with("    weights: {weight: enc.0.weight, bias: enc.0.bias}", "    weights: [enc.0.weight]")),
              HasSubstr("m.yaml:12: layer 'enc.0': weights: expected a map from role to tensor name, found a list"));
  EXPECT_THAT(model_error(with("bias: enc.0.bias", "bias: [a, b]")),
              HasSubstr("m.yaml:12: layer 'enc.0': weight 'bias': expected a string, found a list"));
  EXPECT_THAT(model_error(with("bias: enc.0.bias", "bias: enc 0")),
              HasSubstr("m.yaml:12: layer 'enc.0': weight 'bias': name 'enc 0' contains ' '"));
  EXPECT_THAT(model_error(with("bias: enc.0.bias", "weight: enc.0.bias")),
              HasSubstr("m.yaml:12: layer 'enc.0': weight 'weight' appears twice"));
}

}  // namespace
}  // namespace kiln
