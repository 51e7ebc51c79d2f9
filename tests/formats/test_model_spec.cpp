// parse_model / read_model: the valid example and every structural error of the model.yaml section of
// formats/README.md. Each negative test changes the valid model in one place and asserts the message.
#include "formats/model_spec.h"
#include "model_text.h"
#include "test_util.h"

namespace kiln {
namespace {
using test::error_of;
using test::kModel;
using test::model_error;
using test::with;
using testing::HasSubstr;

TEST(ModelSpec, ValidModel) {
  const ModelSpec s = parse_model(kModel, "dir/m.yaml");
  EXPECT_EQ(s.path, "dir/m.yaml");
  EXPECT_EQ(s.name, "autoencoder");
  EXPECT_EQ(s.manifest_path, "dir/weights.manifest");
  ASSERT_EQ(s.inputs.size(), 1u);
  EXPECT_EQ(s.inputs[0].name, "input");
  EXPECT_EQ(s.inputs[0].shape, (Shape{1, 3, 128, 128}));
  EXPECT_EQ(s.inputs[0].dtype, DType::F32);
  EXPECT_EQ(s.inputs[0].line, 6);
  ASSERT_EQ(s.layers.size(), 2u);

  const LayerSpec& conv = s.layers[0];
  EXPECT_EQ(conv.name(), "enc.0");
  EXPECT_EQ(conv.op(), "conv2d");
  EXPECT_EQ(conv.origin.file, "dir/m.yaml");
  EXPECT_EQ(conv.origin.line, 8);
  EXPECT_EQ(conv.inputs, std::vector<std::string>{"input"});
  EXPECT_EQ(conv.weights, (std::map<std::string, std::string>{{"weight", "enc.0.weight"}, {"bias", "enc.0.bias"}}));

  const auto& a = conv.attributes.values();
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a.at("out_channels").kind, AttrValue::Kind::Int);
  EXPECT_EQ(a.at("out_channels").i, 32);
  EXPECT_EQ(a.at("out_channels").f, 32.0);
  EXPECT_EQ(a.at("out_channels").line, 11);
  EXPECT_EQ(a.at("kernel_size").kind, AttrValue::Kind::IntList);
  EXPECT_EQ(a.at("kernel_size").ints, (std::vector<std::int64_t>{3, 3}));
  EXPECT_EQ(a.at("kernel_size").floats, (std::vector<double>{3.0, 3.0}));
  EXPECT_EQ(a.at("padding").kind, AttrValue::Kind::Int);
  EXPECT_EQ(a.at("slope").kind, AttrValue::Kind::Float);
  EXPECT_EQ(a.at("slope").f, 0.5);
  EXPECT_EQ(a.at("flag").kind, AttrValue::Kind::Bool);
  EXPECT_TRUE(a.at("flag").b);
  EXPECT_EQ(a.at("mode").kind, AttrValue::Kind::String);
  EXPECT_EQ(a.at("mode").s, "nearest");
  EXPECT_EQ(a.at("mix").kind, AttrValue::Kind::FloatList);
  EXPECT_EQ(a.at("mix").floats, (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(a.at("big").kind, AttrValue::Kind::Float);
  EXPECT_EQ(a.at("big").f, -1e-4);

  EXPECT_EQ(s.layers[1].name(), "enc.1");
  EXPECT_EQ(s.layers[1].origin.line, 13);
  EXPECT_TRUE(s.layers[1].attributes.values().empty());
  EXPECT_TRUE(s.layers[1].weights.empty());
  EXPECT_EQ(s.outputs, std::vector<std::string>{"enc.1"});
  EXPECT_EQ(s.output_lines.at("enc.1"), 16);
}

TEST(ModelSpec, OptionalKeysAndQuotedNumbersAreStrings) {
  std::string text = with("name: autoencoder\n", "");
  text = with("mode: \"nearest\"", "mode: '3'", text);
  const ModelSpec s = parse_model(text, "m.yaml");
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.manifest_path, "weights.manifest");
  EXPECT_EQ(s.layers[0].attributes.values().at("mode").kind, AttrValue::Kind::String);
  EXPECT_EQ(s.layers[0].attributes.values().at("mode").s, "3");
}

TEST(ModelSpec, OutputMayBeAnInput) {
  EXPECT_EQ(parse_model(with("outputs: [enc.1]", "outputs: [enc.1, input]"), "m.yaml").outputs.size(), 2u);
}

TEST(ModelSpec, ReadModelResolvesManifestNextToIt) {
  test::TempDir dir;
  const std::string path = dir.write("model.yaml", kModel);
  const ModelSpec s = read_model(path);
  EXPECT_EQ(s.path, path);
  EXPECT_EQ(s.manifest_path, dir.file("weights.manifest"));
  EXPECT_EQ(s.layers[0].origin.file, path);
}

TEST(ModelSpec, MissingFile) {
  test::TempDir dir;
  EXPECT_THAT(error_of([&] { read_model(dir.file("none.yaml")); }),
              HasSubstr(dir.file("none.yaml") + ": cannot open model: No such file or directory"));
}

// --- YAML and top level ---

TEST(ModelSpec, YamlSyntaxError) {
  EXPECT_THAT(model_error(with("outputs: [enc.1]", "outputs: [enc.1")), HasSubstr("m.yaml:17: YAML syntax error"));
  EXPECT_THAT(model_error(with("    op: relu", "   op: relu")), HasSubstr("m.yaml:14: YAML syntax error at column"));
}

TEST(ModelSpec, NotAMap) {
  const std::string expected =
      "m.yaml: expected a map with keys format, version, weights, inputs, layers, outputs; "
      "found nothing (an empty document)";
  EXPECT_THAT(model_error(""), HasSubstr(expected));
  EXPECT_THAT(model_error("# only a comment\n"), HasSubstr(expected));
  EXPECT_THAT(model_error("~\n"), HasSubstr(expected));
  EXPECT_THAT(model_error(","), HasSubstr(expected));  // hangs yaml-cpp 0.7's LoadAll
  EXPECT_THAT(model_error("- 1\n- 2\n"), HasSubstr("m.yaml:1: expected a map with keys"));
  EXPECT_THAT(model_error("just text\n"), HasSubstr("found the string 'just text'"));
}

TEST(ModelSpec, OneDocumentOnly) {
  EXPECT_THAT(model_error("a: 1\n---\nb: 2\n"),
              HasSubstr("m.yaml:2: expected one YAML document, found the start of another"));
  EXPECT_THAT(model_error(kModel + "...\nx: 1\n"), HasSubstr("m.yaml:18: expected one YAML document"));
  EXPECT_THAT(model_error(kModel + "--- \n"), HasSubstr("m.yaml:17: expected one YAML document"));
  // An explicit start marker, an end marker and directives are fine.
  EXPECT_EQ(parse_model("%YAML 1.2\n---\n" + kModel + "...\n# done\n", "m.yaml").layers.size(), 2u);
  EXPECT_EQ(parse_model("# header\n--- # start\n" + kModel, "m.yaml").layers.size(), 2u);
}

TEST(ModelSpec, Format) {
  EXPECT_THAT(model_error(with("format: kiln-model\n", "")),
              HasSubstr("m.yaml:1: missing key 'format' (expected 'format: kiln-model')"));
  EXPECT_THAT(model_error(with("format: kiln-model", "format: onnx")),
              HasSubstr("m.yaml:1: format: expected 'kiln-model', found the string 'onnx'"));
  EXPECT_THAT(model_error(with("format: kiln-model", "format: [kiln-model]")),
              HasSubstr("m.yaml:1: format: expected 'kiln-model', found a list"));
}

TEST(ModelSpec, Version) {
  EXPECT_THAT(model_error(with("version: 1", "version: 2")),
              HasSubstr("m.yaml:2: version 2 is newer than this reader (it reads version 1)"));
  EXPECT_THAT(model_error(with("version: 1", "version: 0")), HasSubstr("m.yaml:2: version: expected 1, found 0"));
  EXPECT_THAT(model_error(with("version: 1", "version: -1")), HasSubstr("m.yaml:2: version: expected 1, found -1"));
  EXPECT_THAT(model_error(with("version: 1", "version: '1'")),
              HasSubstr("m.yaml:2: version: expected an integer, found the string '1'"));
  EXPECT_THAT(model_error(with("version: 1", "version: 1.0")),
              HasSubstr("m.yaml:2: version: expected an integer, found the number '1.0'"));
  EXPECT_THAT(model_error(with("version: 1", "version: 99999999999999999999")),
              HasSubstr("m.yaml:2: version: integer '99999999999999999999' does not fit in 64 bits"));
  EXPECT_THAT(model_error(with("version: 1\n", "")), HasSubstr("m.yaml:1: missing key 'version'"));
}

TEST(ModelSpec, UnknownAndDuplicateTopLevelKeys) {
  EXPECT_THAT(model_error(with("outputs:", "output:")),
              HasSubstr("m.yaml:16: model: unknown key 'output' (expected one of: format, version, name, weights, "
                        "inputs, layers, outputs)"));
  EXPECT_THAT(model_error(with("name: autoencoder", "name: a\nname: b")),
              HasSubstr("m.yaml:4: model: key 'name' appears twice"));
}

TEST(ModelSpec, MissingTopLevelKeys) {
  EXPECT_THAT(model_error(with("weights: weights.manifest\n", "")),
              HasSubstr("m.yaml:1: model: missing key 'weights'"));
  EXPECT_THAT(model_error(with("outputs: [enc.1]\n", "")), HasSubstr("m.yaml:1: model: missing key 'outputs'"));
}

TEST(ModelSpec, WrongTopLevelTypes) {
  EXPECT_THAT(model_error(with("name: autoencoder", "name: {a: 1}")),
              HasSubstr("m.yaml:3: name: expected a string, found a map"));
  EXPECT_THAT(model_error(with("inputs:\n  - {name: input, shape: [1, 3, 128, 128], dtype: f32}", "inputs: input")),
              HasSubstr("m.yaml:5: inputs: expected a list, found the string 'input'"));
  EXPECT_THAT(model_error(with("outputs: [enc.1]", "outputs: enc.1")),
              HasSubstr("m.yaml:16: outputs: expected a list, found the string 'enc.1'"));
}

TEST(ModelSpec, WeightsFileName) {
  EXPECT_THAT(model_error(with("weights: weights.manifest", "weights: ../other/weights.manifest")),
              HasSubstr("m.yaml:4: weights: file name '../other/weights.manifest' contains '/'"));
  EXPECT_THAT(model_error(with("weights: weights.manifest", "weights: /etc/passwd")), HasSubstr("contains '/'"));
  EXPECT_THAT(model_error(with("weights: weights.manifest", "weights: ..")), HasSubstr("contains '..'"));
  EXPECT_THAT(model_error(with("weights: weights.manifest", "weights: [a]")),
              HasSubstr("m.yaml:4: weights: expected a string, found a list"));
}

// --- inputs ---

TEST(ModelSpec, InputErrors) {
  const std::string in = "{name: input, shape: [1, 3, 128, 128], dtype: f32}";
  auto input = [&](const std::string& replacement) { return model_error(with(in, replacement)); };
  EXPECT_THAT(input("{name: input, shpae: [1, 3], dtype: f32}"),
              HasSubstr("m.yaml:6: inputs[0]: unknown key 'shpae' (expected one of: name, shape, dtype, min_hw, max_hw)"));
  EXPECT_THAT(input("{name: input, dtype: f32}"), HasSubstr("m.yaml:6: inputs[0]: missing key 'shape'"));
  EXPECT_THAT(input("{shape: [1], dtype: f32}"), HasSubstr("m.yaml:6: inputs[0]: missing key 'name'"));
  EXPECT_THAT(input("{name: input, shape: [1, 3, 128, 128], dtype: f16}"),
              HasSubstr("m.yaml:6: input 'input': dtype: expected f32, found 'f16'"));
  EXPECT_THAT(input("{name: input, shape: [], dtype: f32}"),
              HasSubstr("m.yaml:6: input 'input': shape: expected 1 to 8 entries, found 0"));
  EXPECT_THAT(input("{name: input, shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], dtype: f32}"),
              HasSubstr("input 'input': shape: expected 1 to 8 entries, found 9"));
  EXPECT_THAT(input("{name: input, shape: [1, 0, 128, 128], dtype: f32}"),
              HasSubstr("m.yaml:6: input 'input': shape: expected 1 <= d <= 2^31, found 0"));
  EXPECT_THAT(input("{name: input, shape: [1, -3, 128, 128], dtype: f32}"),
              HasSubstr("shape: expected 1 <= d <= 2^31, found -3"));
  EXPECT_THAT(input("{name: input, shape: [1, 2147483649], dtype: f32}"),
              HasSubstr("shape: expected 1 <= d <= 2^31, found 2147483649"));
  EXPECT_THAT(input("{name: input, shape: [1, 1.5], dtype: f32}"),
              HasSubstr("input 'input': shape: expected an integer, found the number '1.5'"));
  EXPECT_THAT(input("{name: input, shape: [1, [3]], dtype: f32}"), HasSubstr("expected an integer, found a list"));
  EXPECT_THAT(input("{name: input, shape: 3, dtype: f32}"),
              HasSubstr("input 'input': shape: expected a list, found the integer '3'"));
  EXPECT_THAT(input("{name: in put, shape: [1], dtype: f32}"),
              HasSubstr("m.yaml:6: inputs[0]: name: name 'in put' contains ' '"));
  EXPECT_THAT(input("[input]"), HasSubstr("m.yaml:6: inputs[0]: expected a map, found a list"));
  EXPECT_THAT(model_error(with("  - " + in, "  []")), HasSubstr("inputs: expected 1 to 64 entries, found 0"));
}

TEST(ModelSpec, TooManyInputs) {
  std::string many;
  for (int i = 0; i < 65; ++i) many += "  - {name: in" + std::to_string(i) + ", shape: [1], dtype: f32}\n";
  EXPECT_THAT(model_error(with("  - {name: input, shape: [1, 3, 128, 128], dtype: f32}\n", many)),
              HasSubstr("m.yaml:6: inputs: expected 1 to 64 entries, found 65"));
}

}  // namespace
}  // namespace kiln
