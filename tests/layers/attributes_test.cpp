// Attributes (formats/attributes.cpp) and LayerOrigin::describe, without YAML.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "base/errors.h"
#include "formats/model_spec.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

LayerOrigin origin() {
  LayerOrigin o;
  o.file = "net/model.yaml";
  o.line = 30;
  o.name = "down.1";
  o.op = "max_pool2d";
  return o;
}

AttrValue int_value(std::int64_t v, int line = 31) {
  AttrValue a;
  a.kind = AttrValue::Kind::Int;
  a.i = v;
  a.f = static_cast<double>(v);
  a.line = line;
  return a;
}

std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(LayerOrigin, Describe) {
  EXPECT_EQ(origin().describe(), "net/model.yaml:30: layer down.1 (max_pool2d)");
  LayerOrigin no_line = origin();
  no_line.line = 0;
  EXPECT_EQ(no_line.describe(), "net/model.yaml: layer down.1 (max_pool2d)");
  LayerOrigin no_file = origin();
  no_file.file.clear();
  EXPECT_EQ(no_file.describe(), "layer down.1 (max_pool2d)");
}

TEST(Attributes, TypedGetters) {
  AttrValue pair;
  pair.kind = AttrValue::Kind::IntList;
  pair.ints = {2, 3};
  pair.floats = {2, 3};
  AttrValue f;
  f.kind = AttrValue::Kind::Float;
  f.f = 0.5;
  AttrValue b;
  b.kind = AttrValue::Kind::Bool;
  b.b = false;
  const Attributes a(origin(), {{"k", int_value(3)}, {"p", pair}, {"x", f}, {"on", b}});
  EXPECT_TRUE(a.has("k"));
  EXPECT_FALSE(a.has("q"));
  EXPECT_EQ(a.get_int("k"), 3);
  EXPECT_EQ(a.get_int("q", 9), 9);
  EXPECT_EQ(a.get_pair("k"), (std::vector<std::int64_t>{3, 3}));
  EXPECT_EQ(a.get_pair("p"), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a.get_pair("q", {4, 5}), (std::vector<std::int64_t>{4, 5}));
  EXPECT_DOUBLE_EQ(a.get_float("x", 1.0), 0.5);
  EXPECT_DOUBLE_EQ(a.get_float("k", 1.0), 3.0);  // an integer is accepted where a number is expected
  EXPECT_FALSE(a.get_bool("on", true));
  EXPECT_NO_THROW(a.finish());
}

TEST(Attributes, WrongKindNamesTheAttributeLine) {
  AttrValue list;
  list.kind = AttrValue::Kind::FloatList;
  list.floats = {0.5, 1};
  list.line = 33;
  const Attributes a(origin(), {{"k", int_value(3)}, {"l", list}});
  EXPECT_EQ(message([&] { a.get_bool("k", true); }),
            "net/model.yaml:31: layer down.1 (max_pool2d): attribute 'k': expected true or false, found integer 3");
  EXPECT_THAT(message([&] { a.get_pair("l"); }),
              HasSubstr("net/model.yaml:33: layer down.1 (max_pool2d): attribute 'l': expected an integer or a list "
                        "of two integers [h, w], found list [0.5, 1]"));
  EXPECT_THAT(message([&] { a.get_int("l"); }), HasSubstr("expected an integer, found list [0.5, 1]"));
}

TEST(Attributes, MissingListsWhatWasGiven) {
  const Attributes a(origin(), {{"kernel", int_value(3)}});
  EXPECT_EQ(message([&] { a.get_int("kernel_size"); }),
            "net/model.yaml:30: layer down.1 (max_pool2d): missing required attribute 'kernel_size' (given: kernel)");
}

TEST(Attributes, FinishReportsUnreadKeysAndWhatTheOpTakes) {
  const Attributes a(origin(), {{"kernel_size", int_value(3, 31)}, {"strides", int_value(2, 32)},
                                {"pad", int_value(1, 33)}});
  a.get_pair("kernel_size");
  a.get_pair("stride", {3, 3});
  a.get_pair("padding", {0, 0});
  EXPECT_EQ(message([&] { a.finish(); }),
            "net/model.yaml:33: layer down.1 (max_pool2d): unknown attributes 'pad', 'strides' (max_pool2d takes: "
            "kernel_size, padding, stride)");
  const Attributes none(origin(), {{"alpha", int_value(1)}});
  EXPECT_THAT(message([&] { none.finish(); }), HasSubstr("unknown attribute 'alpha' (max_pool2d takes no attributes)"));
}

}  // namespace
}  // namespace kiln
