// model.yaml files a user may be handed that aim at the reader rather than describe a network: each is
// refused before yaml-cpp builds a tree, fast and with a one-line message naming the limit.
#include <chrono>
#include <string>

#include "formats/model_spec.h"
#include "formats/rules.h"
#include "formats/yaml_prescan.h"
#include "model_text.h"
#include "test_util.h"

namespace kiln {
namespace {
using test::kModel;
using test::model_error;
using test::with;
using testing::HasSubstr;

TEST(HostileModel, AnchorsAndAliasesAreRefused) {
  // The exponential-expansion shape: every layer refers to one aliased list.
  EXPECT_THAT(model_error(with("kernel_size: [3, 3]", "kernel_size: &k [3, 3]")),
              HasSubstr("m.yaml:11:"));
  EXPECT_THAT(model_error(with("kernel_size: [3, 3]", "kernel_size: &k [3, 3]")),
              HasSubstr("YAML anchors (&name) are not allowed in a model file"));
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'k'; ++c) {
    const char prev = static_cast<char>(c - 1);
    laughs += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
              ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(model_error(laughs), HasSubstr("m.yaml:1:4: YAML anchors (&name) are not allowed"));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
}

TEST(HostileModel, ControlBytesAndInvalidUtf8AreRefusedWithTheirPlace) {
  std::string nul = with("mode: \"nearest\"", std::string("mode: \"near\0est\"", 16));
  EXPECT_THAT(model_error(nul), HasSubstr("m.yaml:11:"));
  EXPECT_THAT(model_error(nul), HasSubstr("byte 0x00 (NUL) is not allowed in a model file"));
  EXPECT_THAT(model_error(with("name: autoencoder", "name: auto\x1b[2Jencoder")),
              HasSubstr("m.yaml:3:11: byte 0x1b (a control character) is not allowed"));
  EXPECT_THAT(model_error(with("name: autoencoder", "name: auto\xff")),
              HasSubstr("m.yaml:3:11: byte 0xff is not valid UTF-8"));
  EXPECT_THAT(model_error(with("name: autoencoder", "name: auto\xc0\xaf")), HasSubstr("is not valid UTF-8"));
  // Valid multi-byte text passes the byte check.
  EXPECT_NO_THROW(parse_model(with("name: autoencoder", "name: \"\xc3\xa9t\xc3\xa9\""), "m.yaml"));
}

TEST(HostileModel, NestingNodeCountAndValueLengthAreBounded) {
  const std::string deep = "format: " + std::string(100, '[') + std::string(100, ']') + "\n";
  EXPECT_THAT(model_error(deep), HasSubstr("lists and maps nested more than 32 deep"));
  const std::string long_value = with("mode: \"nearest\"", "mode: \"" + std::string(5000, 'n') + "\"");
  EXPECT_THAT(model_error(long_value), HasSubstr("a value of 5000 characters, expected at most 4096"));
  // The node count, with a small limit (the real one, rules::kMaxYamlNodes, takes seconds to reach).
  std::string many = "format: [";
  for (int i = 0; i < 1000; ++i) many += "0,";
  many += "0]\n";
  yaml::PrescanLimits small;
  small.nodes = 1000;
  EXPECT_THAT(test::error_of([&] { yaml::prescan(many, "m.yaml", small); }),
              HasSubstr("m.yaml:1:"));
  EXPECT_THAT(test::error_of([&] { yaml::prescan(many, "m.yaml", small); }),
              HasSubstr("more than 1000 YAML nodes (values, lists and maps)"));
  EXPECT_NO_THROW(yaml::prescan(many, "m.yaml"));
}

TEST(HostileModel, YamlSyntaxErrorsAreExplained) {
  EXPECT_THAT(model_error(with("outputs: [enc.1]", "outputs: [enc.1")),
              HasSubstr("a list in brackets is not closed (a missing ']')"));
  EXPECT_THAT(model_error(with("mode: \"nearest\"", "mode: \"near\\qest\"")),
              HasSubstr("an unknown escape (\\x) in a double-quoted string"));
}

TEST(HostileModel, MessagesStayOneShortLine) {
  // 20000 unknown attributes: the list is cut.
  std::string attrs;
  for (int i = 0; i < 20000; ++i) attrs += ", u" + std::to_string(i) + ": 1";
  const std::string text = with("big: -1e-4}", "big: -1e-4" + attrs + "}");
  const ModelSpec spec = parse_model(text, "m.yaml");
  const std::string msg = test::error_of<ModelError>([&] { spec.layers.at(0).attributes.finish(); });
  EXPECT_THAT(msg, HasSubstr("'u0', 'u1', ... and 19998 more"));  // the first 10 unknown names, then the count
  EXPECT_LT(msg.size(), 1000u);
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace kiln
