// add, sub, mul, div (layers/elementwise): the CPU reference against values computed here, independently
// of its stride arithmetic (each output coordinate maps to an operand's by clamping broadcast dimensions
// to 0), over a table of broadcast shapes both ways, scalars and weights with and without `reverse`, and
// every validation message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "layers/elementwise/elementwise.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;

float apply(const std::string& op, float a, float b) {
  if (op == "add") return a + b;
  if (op == "sub") return a - b;
  if (op == "mul") return a * b;
  return a / b;
}

// The element of `operand` (row-major, `shape`) that output coordinate `at` reads: dimension d at 0
// where the operand has one element.
float at_coordinate(const std::vector<float>& operand, const Shape& shape, const std::vector<std::int64_t>& at) {
  std::int64_t index = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) index = index * shape[d] + (shape[d] == 1 ? 0 : at[d]);
  return operand[static_cast<std::size_t>(index)];
}

// The expected output of a op b over `out` (a and b of `sa`, `sb`, equal rank; b may be a weight
// aligned with a leading 1), computed coordinate by coordinate.
std::vector<float> expected(const std::string& op, const std::vector<float>& a, const Shape& sa,
                            const std::vector<float>& b, const Shape& sb, const Shape& out, bool swap = false) {
  std::vector<float> y;
  std::vector<std::int64_t> at(out.size(), 0);
  for (std::int64_t i = 0; i < count(out); ++i) {
    std::int64_t rest = i;
    for (std::size_t d = out.size(); d-- > 0;) {
      at[d] = rest % out[d];
      rest /= out[d];
    }
    const float u = at_coordinate(a, sa, at), v = at_coordinate(b, sb, at);
    y.push_back(swap ? apply(op, v, u) : apply(op, u, v));
  }
  return y;
}

struct Pair {
  Shape a, b, out;
};

// Broadcast shapes, each also run with the operands swapped (the broadcast one first).
const std::vector<Pair> kPairs = {
    {{2, 3, 4, 5}, {2, 3, 1, 1}, {2, 3, 4, 5}},  // SE gate
    {{2, 3, 4, 5}, {2, 1, 4, 5}, {2, 3, 4, 5}},  // one value per position
    {{2, 3, 4, 5}, {2, 3, 4, 5}, {2, 3, 4, 5}},  // equal shapes
    {{2, 3, 4, 5}, {2, 1, 1, 5}, {2, 3, 4, 5}},
    {{2, 3, 4, 1}, {2, 1, 1, 5}, {2, 3, 4, 5}},  // both broadcast: the output is larger than either
    {{3, 7}, {3, 1}, {3, 7}},                    // [N, F] op [N, 1]
    {{2, 5, 6}, {2, 5, 1}, {2, 5, 6}},
    {{2, 3, 2, 2, 3}, {2, 3, 1, 1, 1}, {2, 3, 2, 2, 3}},
    {{4}, {4}, {4}},
};

TEST(Elementwise, BroadcastTableBothWays) {
  std::mt19937 rng(11);
  for (const std::string op : {"add", "sub", "mul", "div"}) {
    for (const Pair& p : kPairs) {
      for (const bool swapped : {false, true}) {
        const Shape& sa = swapped ? p.b : p.a;
        const Shape& sb = swapped ? p.a : p.b;
        SCOPED_TRACE(op + " " + shape_to_string(sa) + " " + shape_to_string(sb));
        LayerCase c(op, {sa, sb});
        auto layer = c.build();
        ASSERT_EQ(layer->output_shape(), p.out);
        EXPECT_EQ(layer->can_run_in_place(), p.out == sa);
        const auto a = random_floats(static_cast<std::size_t>(count(sa)), rng, -2, 2);
        auto b = random_floats(static_cast<std::size_t>(count(sb)), rng, 0.5f, 2);  // divisors away from 0
        EXPECT_EQ(c.run(*layer, {a, b}), expected(op, a, sa, b, sb, p.out));
      }
    }
  }
}

TEST(Elementwise, SmallerBatchReadsTheSameBroadcast) {
  std::mt19937 rng(3);
  LayerCase c("mul", {{3, 2, 2, 2}, {3, 2, 1, 1}});
  auto layer = c.build();
  const auto a = random_floats(24, rng), b = random_floats(6, rng);
  const auto full = c.run(*layer, {a, b});
  const auto two = c.run(*layer, {a, b}, 2);
  ASSERT_EQ(two.size(), 16u);
  EXPECT_TRUE(std::equal(two.begin(), two.end(), full.begin()));
}

TEST(Elementwise, HandValues) {
  LayerCase gate("mul", {{1, 2, 1, 2}, {1, 2, 1, 1}});
  auto g = gate.build();
  EXPECT_EQ(gate.run(*g, {{1, 2, 3, 4}, {10, -1}}), (std::vector<float>{10, 20, -3, -4}));
  LayerCase sub("sub", {{1, 1, 2}, {1, 3, 1}});
  auto s = sub.build();
  ASSERT_EQ(s->output_shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(sub.run(*s, {{1, 2}, {10, 20, 30}}), (std::vector<float>{-9, -8, -19, -18, -29, -28}));
  LayerCase div("div", {{2, 2}, {2, 1}});
  auto d = div.build();
  EXPECT_EQ(div.run(*d, {{1, 2, 3, 6}, {2, 3}}), (std::vector<float>{0.5f, 1, 1, 2}));
}

TEST(Elementwise, NaryAddIsUnchanged) {
  LayerCase c("add", {{1, 2, 1, 2}, {1, 2, 1, 2}, {1, 2, 1, 2}, {1, 2, 1, 2}});
  auto layer = c.build();
  EXPECT_TRUE(layer->can_run_in_place());
  EXPECT_EQ(c.run(*layer, {{1, 2, 3, 4}, {10, 20, 30, 40}, {100, 200, 300, 400}, {1000, 2000, 3000, 4000}}),
            (std::vector<float>{1111, 2222, 3333, 4444}));
}

struct ScalarCase {
  std::string op;
  double s;
  bool reverse;
  std::vector<float> y;  // for x = {-2, 0.5, 4}
};

TEST(Elementwise, ScalarAndReverse) {
  const std::vector<ScalarCase> cases = {
      {"add", 1.5, false, {-0.5f, 2, 5.5f}},  {"add", 1.5, true, {-0.5f, 2, 5.5f}},
      {"sub", 1.0, false, {-3, -0.5f, 3}},    {"sub", 1.0, true, {3, 0.5f, -3}},  // rsub: 1 - x
      {"mul", -2.0, false, {4, -1, -8}},      {"mul", 0.5, true, {-1, 0.25f, 2}},
      {"div", 4.0, false, {-0.5f, 0.125f, 1}}, {"div", 1.0, true, {-0.5f, 2, 0.25f}},  // rtruediv: 1 / x
  };
  for (const ScalarCase& k : cases) {
    SCOPED_TRACE(k.op + (k.reverse ? " reverse" : ""));
    LayerCase c(k.op, {{1, 3}});
    c.attr("scalar", k.s);
    if (k.reverse) c.attr("reverse", true);
    auto layer = c.build();
    EXPECT_TRUE(layer->can_run_in_place());
    EXPECT_EQ(c.run(*layer, {{-2, 0.5f, 4}}), k.y);
  }
}

TEST(Elementwise, DivisionByZeroIsIeee) {
  LayerCase c("div", {{1, 3}});
  c.attr("scalar", 0.0);
  auto layer = c.build();
  const auto y = c.run(*layer, {{1, -1, 0}});
  EXPECT_EQ(y[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(y[1], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(y[2]));
  LayerCase r("div", {{1, 2}});
  r.attr("scalar", 1.0).attr("reverse", true);
  auto rl = r.build();
  EXPECT_EQ(r.run(*rl, {{0.0f, -0.0f}}),
            (std::vector<float>{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}));
}

TEST(Elementwise, NanPropagates) {
  LayerCase c("mul", {{1, 2}, {1, 1}});
  auto layer = c.build();
  const auto y = c.run(*layer, {{1, std::nanf("")}, {0}});
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_TRUE(std::isnan(y[1]));
}

TEST(Elementwise, WeightPerChannelAndPerSample) {
  std::mt19937 rng(7);
  struct W {
    std::string op, per;
    Shape x, w;
  };
  const std::vector<W> table = {
      {"mul", "channel", {2, 3, 4, 5}, {3, 1, 1}},  // layer scale
      {"add", "channel", {2, 5}, {5}},
      {"sub", "channel", {2, 3, 4}, {3, 1}},
      {"div", "sample", {2, 3, 2, 2}, {3, 2, 2}},
      {"add", "sample", {3, 4, 6}, {4, 6}},         // a positional embedding
  };
  for (const W& t : table) {
    for (const bool reverse : {false, true}) {
      SCOPED_TRACE(t.op + " " + t.per + " " + shape_to_string(t.x) + (reverse ? " reverse" : ""));
      LayerCase c(t.op, {t.x});
      const auto w = random_floats(static_cast<std::size_t>(count(t.w)), rng, 0.5f, 2);
      c.weight("other", t.w, w);
      if (t.per == "sample") c.attr("other_per", "sample");
      if (reverse) c.attr("reverse", true);
      auto layer = c.build();
      ASSERT_EQ(layer->output_shape(), t.x);
      EXPECT_TRUE(layer->can_run_in_place());
      ASSERT_EQ(layer->weights().size(), 1u);
      Shape aligned{1};
      aligned.insert(aligned.end(), t.w.begin(), t.w.end());
      const auto x = random_floats(static_cast<std::size_t>(count(t.x)), rng, 0.5f, 2);
      EXPECT_EQ(c.run(*layer, {x}), expected(t.op, x, t.x, w, aligned, t.x, reverse));
    }
  }
}

TEST(Elementwise, WeightHandValues) {
  LayerCase c("div", {{1, 2, 1, 2}});
  c.weight("other", {2, 1, 1}, {2, 4}).attr("reverse", true);  // other / x
  auto layer = c.build();
  EXPECT_EQ(c.run(*layer, {{1, 2, 8, 16}}), (std::vector<float>{2, 1, 0.5f, 0.25f}));
}

struct Bad {
  std::string label;
  std::string op;
  std::vector<Shape> inputs;
  std::function<void(LayerCase&)> setup;
  std::string message;
};

TEST(ElementwiseValidation, Messages) {
  auto none = [](LayerCase&) {};
  const std::vector<Bad> table = {
      {"not broadcastable", "mul", {{1, 3, 4, 4}, {1, 2, 4, 4}}, none,
       "layer l1 (mul): input 1 'in1' has shape [1,2,4,4], input 0 'in0' has [1,3,4,4]: dimension 1 is 2 and 3; mul "
       "broadcasts dimensions that are equal or 1"},
      {"ranks", "sub", {{1, 3, 4, 4}, {1, 3}}, none,
       "input 1 'in1' has shape [1,3], input 0 'in0' has [1,3,4,4]: ranks 2 and 4 differ; sub broadcasts tensors of "
       "equal rank"},
      {"batch", "add", {{2, 3}, {1, 3}}, none, "dimension 0 (the batch) must be equal"},
      {"three mul", "mul", {{1, 3}, {1, 3}, {1, 3}}, none,
       "takes 1 or 2 inputs, found 3; only add takes 3 or more (of equal shape)"},
      {"three add unequal", "add", {{1, 3}, {1, 3}, {1, 1}}, none,
       "input 2 'in2' has shape [1,1], input 0 'in0' has [1,3]; add of 3 or more inputs needs equal shapes"},
      {"no operand", "div", {{1, 3}}, none,
       "has one input and no second operand: give a second input, attribute 'scalar' or weight 'other'"},
      {"scalar and input", "mul", {{1, 3}, {1, 3}}, [](LayerCase& c) { c.attr("scalar", 2.0); },
       "attribute 'scalar' is given with a second input 'in1'; the second operand is input 1, attribute 'scalar' or "
       "weight 'other'"},
      {"weight and input", "mul", {{1, 3}, {1, 3}}, [](LayerCase& c) { c.weight("other", {3}, {1, 2, 3}); },
       "weight 'other' is given with a second input 'in1'"},
      {"reverse with two inputs", "sub", {{1, 3}, {1, 3}}, [](LayerCase& c) { c.attr("reverse", true); },
       "attribute 'reverse' applies to a scalar or weight operand; with two inputs, swap them"},
      {"scalar and weight", "mul", {{1, 3}},
       [](LayerCase& c) { c.attr("scalar", 2.0).weight("other", {3}, {1, 2, 3}); },
       "attribute 'scalar' and weight 'other' are both given; the second operand is one of them"},
      {"nan scalar", "add", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", std::nan("")); },
       "attribute 'scalar' must be a finite number"},
      {"inf scalar", "add", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", std::numeric_limits<double>::infinity()); },
       "attribute 'scalar' must be a finite number"},
      {"huge scalar", "mul", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", 1e300); },
       "attribute 'scalar' is outside the float32 range"},
      {"string scalar", "mul", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", "two"); },
       "attribute 'scalar': expected a number, found string 'two'"},
      {"reverse not bool", "sub", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", 1.0).attr("reverse", 1); },
       "attribute 'reverse': expected true or false"},
      {"weight shape", "mul", {{1, 3, 4, 4}}, [](LayerCase& c) { c.weight("other", {3}, {1, 2, 3}); },
       "weight 'other' = l1.other has shape [3], expected [3,1,1] (other_per channel: one value per channel, the "
       "input's rank without the batch)"},
      {"sample shape", "add", {{1, 3, 4}}, [](LayerCase& c) {
         c.weight("other", {3, 1}, {1, 2, 3}).attr("other_per", "sample");
       },
       "weight 'other' = l1.other has shape [3,1], expected [3,4] (other_per sample"},
      {"bad per", "add", {{1, 3}}, [](LayerCase& c) { c.weight("other", {3}, {1, 2, 3}).attr("other_per", "row"); },
       "attribute 'other_per': expected one of 'channel', 'sample', found string 'row'"},
      {"per without weight", "add", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", 1.0).attr("other_per", "sample"); },
       "attribute 'other_per' applies to weight 'other', which the layer does not name"},
      {"weight of rank 1 input", "mul", {{4}}, [](LayerCase& c) { c.weight("other", {1}, {2}); },
       "weight 'other' needs an input of rank 2 or more, found shape [4] (a single constant is attribute 'scalar')"},
      {"unknown attribute", "div", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", 2.0).attr("alpha", 2.0); },
       "unknown attribute 'alpha' (div takes: reverse, scalar)"},
      {"unknown weight", "mul", {{1, 3}}, [](LayerCase& c) { c.attr("scalar", 2.0).weight("gamma", {3}, {1, 2, 3}); },
       "weight role 'gamma' is not used by mul"},
      {"no inputs", "add", {}, none, "takes at least 1 inputs, found 0"},
  };
  for (const Bad& b : table) {
    SCOPED_TRACE(b.label);
    LayerCase c(b.op, b.inputs);
    b.setup(c);
    const std::string e = c.build_error();
    EXPECT_THAT(e, HasSubstr(b.message));
    EXPECT_THAT(e, HasSubstr("model.yaml:")) << "names the file";
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line";
  }
}

}  // namespace
}  // namespace kiln::test
