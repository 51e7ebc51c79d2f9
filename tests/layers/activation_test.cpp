// The activations' CPU reference against their formulas written directly from PyTorch's documentation,
// evaluated in double, over random data and the points where each formula changes branch (the kinks of
// relu6 / hardtanh / hardswish / hardsigmoid, softplus's threshold), and every validation message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "base/shape.h"
#include "layers/activation/activation.h"
#include "tests/layers/layer_case.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;

struct Formula {
  std::string label;
  std::string op;
  std::vector<std::pair<std::string, AttrValue>> attrs;
  std::function<double(float)> reference;  // PyTorch's definition, in double
  std::vector<float> kinks;                // inputs where the formula changes branch
  double tol;                              // |got - want| <= tol * max(1, |want|)
};

void PrintTo(const Formula& f, std::ostream* os) { *os << f.label; }

AttrValue number(double v) {
  AttrValue a;
  a.kind = AttrValue::Kind::Float;
  a.f = v;
  return a;
}

AttrValue text(const std::string& v) {
  AttrValue a;
  a.kind = AttrValue::Kind::String;
  a.s = v;
  a.text = v;
  return a;
}

AttrValue flag(bool v) {
  AttrValue a;
  a.kind = AttrValue::Kind::Bool;
  a.b = v;
  return a;
}

double clamp(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

double softplus(float x, float beta, float threshold) {
  // PyTorch compares in the tensor's type (float) and returns x itself beyond the threshold.
  if (x * beta > threshold) return x;
  return std::log1p(std::exp(static_cast<double>(beta) * x)) / beta;
}

// Exact for the piecewise-linear kinds (the float formula rounds once or not at all), a few float ulps
// for the transcendental ones.
constexpr double kExact = 0.0;
constexpr double kLinear = 2e-7;
constexpr double kSmooth = 2e-6;

std::vector<Formula> formulas() {
  const double sqrt_2_over_pi = std::sqrt(2.0 / M_PI);
  return {
      {"relu6", "relu6", {}, [](float x) { return clamp(x, 0, 6); }, {0.0f, 6.0f}, kExact},
      {"hardtanh_default", "hardtanh", {}, [](float x) { return clamp(x, -1, 1); }, {-1.0f, 1.0f}, kExact},
      {"hardtanh_bounds", "hardtanh", {{"min_val", number(-0.5)}, {"max_val", number(2.25)}},
       [](float x) { return clamp(x, -0.5, 2.25); }, {-0.5f, 2.25f}, kExact},
      {"hardtanh_equal_bounds", "hardtanh", {{"min_val", number(0.75)}, {"max_val", number(0.75)}},
       [](float) { return 0.75; }, {0.75f}, kExact},
      {"hardswish", "hardswish", {}, [](float x) { return x * clamp(x + 3.0, 0, 6) / 6.0; }, {-3.0f, 3.0f}, kLinear},
      {"hardsigmoid", "hardsigmoid", {}, [](float x) { return clamp(x + 3.0, 0, 6) / 6.0; }, {-3.0f, 3.0f}, kLinear},
      {"silu", "silu", {}, [](float x) { return x / (1.0 + std::exp(-static_cast<double>(x))); }, {0.0f}, kSmooth},
      {"mish", "mish", {}, [](float x) { return x * std::tanh(std::log1p(std::exp(static_cast<double>(x)))); },
       {0.0f}, kSmooth},
      {"gelu_erf", "gelu", {}, [](float x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }, {0.0f}, kSmooth},
      {"gelu_erf_explicit", "gelu", {{"approximate", text("none")}},
       [](float x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }, {0.0f}, kSmooth},
      {"gelu_tanh", "gelu", {{"approximate", text("tanh")}},
       [sqrt_2_over_pi](float x) {
         const double d = x;
         return 0.5 * d * (1.0 + std::tanh(sqrt_2_over_pi * (d + 0.044715 * d * d * d)));
       },
       {0.0f}, kSmooth},
      {"softplus_default", "softplus", {}, [](float x) { return softplus(x, 1.0f, 20.0f); }, {20.0f}, kSmooth},
      {"softplus_beta2_threshold1", "softplus", {{"beta", number(2.0)}, {"threshold", number(1.0)}},
       [](float x) { return softplus(x, 2.0f, 1.0f); }, {0.5f}, kSmooth},
      {"softplus_beta_half_threshold_neg", "softplus", {{"beta", number(0.5)}, {"threshold", number(-1.0)}},
       [](float x) { return softplus(x, 0.5f, -1.0f); }, {-2.0f}, kSmooth},
  };
}

// Random values over [-10, 10], far tails, and each kink with its float neighbours.
std::vector<float> inputs_for(const Formula& f) {
  std::mt19937 rng(7);
  std::vector<float> x = random_floats(200, rng, -10.0f, 10.0f);
  for (float v : {-100.0f, -30.0f, -1e-3f, 0.0f, 1e-3f, 30.0f, 100.0f}) x.push_back(v);
  for (float k : f.kinks) {
    for (float v : {k, std::nextafter(k, -INFINITY), std::nextafter(k, INFINITY), k - 1e-3f, k + 1e-3f}) {
      x.push_back(v);
    }
  }
  return x;
}

class ActivationFormula : public ::testing::TestWithParam<Formula> {};

TEST_P(ActivationFormula, CpuReferenceMatchesTheFormula) {
  const Formula& f = GetParam();
  const std::vector<float> x = inputs_for(f);
  LayerCase c(f.op, {{1, static_cast<std::int64_t>(x.size())}});
  for (const auto& [key, value] : f.attrs) c.attr(key, value);
  auto layer = c.build();
  EXPECT_TRUE(layer->can_run_in_place());
  const std::vector<float> y = c.run(*layer, {x});
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = f.reference(x[i]);
    EXPECT_LE(std::abs(y[i] - want), f.tol * std::max(1.0, std::abs(want)))
        << f.label << "(" << x[i] << ") = " << y[i] << ", expected " << want;
  }
}

TEST_P(ActivationFormula, NaNPropagates) {
  const Formula& f = GetParam();
  LayerCase c(f.op, {{1, 1}});
  for (const auto& [key, value] : f.attrs) c.attr(key, value);
  auto layer = c.build();
  EXPECT_TRUE(std::isnan(c.run(*layer, {{std::numeric_limits<float>::quiet_NaN()}})[0])) << f.label;
}

std::string label(const ::testing::TestParamInfo<Formula>& info) { return info.param.label; }
INSTANTIATE_TEST_SUITE_P(Table, ActivationFormula, ::testing::ValuesIn(formulas()), label);

TEST(Activation, KinksHandChecked) {
  LayerCase r6("relu6", {{1, 4}});
  auto relu6 = r6.build();
  EXPECT_EQ(r6.run(*relu6, {{-0.0f, 5.999f, 6.0f, 6.001f}}), (std::vector<float>{0.0f, 5.999f, 6.0f, 6.0f}));
  // softplus(beta 2, threshold 1): beta*x = 1 is still the logarithm; just above it, x itself.
  LayerCase sp("softplus", {{1, 2}});
  sp.attr("beta", 2.0).attr("threshold", 1.0);
  auto soft = sp.build();
  const float above = std::nextafter(0.5f, 1.0f);
  const auto y = sp.run(*soft, {{0.5f, above}});
  EXPECT_FLOAT_EQ(y[0], static_cast<float>(std::log1p(std::exp(1.0)) / 2.0));
  EXPECT_EQ(y[1], above);
  // Large inputs stay finite where exp alone would overflow.
  LayerCase big("softplus", {{1, 1}});
  auto soft_default = big.build();
  EXPECT_EQ(big.run(*soft_default, {{1000.0f}})[0], 1000.0f);
  LayerCase mish("mish", {{1, 2}});
  auto m = mish.build();
  const auto my = mish.run(*m, {{-1000.0f, 50.0f}});
  EXPECT_EQ(my[0], -0.0f);
  EXPECT_EQ(my[1], 50.0f);
  LayerCase hs("hardswish", {{1, 3}});
  auto h = hs.build();
  EXPECT_EQ(hs.run(*h, {{-3.0f, 3.0f, 1.5f}}), (std::vector<float>{-0.0f, 3.0f, 1.5f * 4.5f / 6.0f}));
}

// y = x > 0 ? x : w[c] * x, c = dimension 1 (one channel for a 1-D input), shared when num_parameters 1.
struct PreluCase {
  Shape shape;
  std::int64_t num_parameters;
};

TEST(Prelu, PerChannelAndSharedOverRanks) {
  const PreluCase cases[] = {{{3, 4, 2, 3}, 4}, {{3, 4, 2, 3}, 1}, {{2, 5}, 5}, {{2, 3, 7}, 3}, {{6}, 1},
                             {{2, 1, 3, 3}, 1}, {{2, 9, 1, 1}, 9}};
  std::mt19937 rng(3);
  for (const PreluCase& k : cases) {
    const std::int64_t channels = k.shape.size() >= 2 ? k.shape[1] : 1;
    std::int64_t inner = 1;
    for (std::size_t d = 2; d < k.shape.size(); ++d) inner *= k.shape[d];
    const std::vector<float> w = random_floats(static_cast<std::size_t>(k.num_parameters), rng, -0.5f, 0.5f);
    LayerCase c("prelu", {k.shape});
    c.attr("num_parameters", k.num_parameters).weight("weight", {k.num_parameters}, w);
    auto layer = c.build();
    ASSERT_EQ(layer->weights().size(), 1u);
    ASSERT_EQ(layer->output_shape(), k.shape);
    for (const std::int64_t batch : {k.shape[0], std::int64_t{1}}) {
      const std::vector<float> x = random_floats(static_cast<std::size_t>(count(k.shape)), rng);
      const std::vector<float> y = c.run(*layer, {x}, batch);
      for (std::size_t i = 0; i < y.size(); ++i) {
        const std::int64_t ch = (static_cast<std::int64_t>(i) / inner) % channels;
        const float slope = w[static_cast<std::size_t>(k.num_parameters == 1 ? 0 : ch)];
        EXPECT_EQ(y[i], x[i] > 0 ? x[i] : slope * x[i]) << shape_to_string(k.shape) << " element " << i;
      }
    }
  }
}

TEST(Activation, NewKindsParamsForBackends) {
  LayerCase r6("relu6", {{1, 3}});
  auto relu6 = r6.build();
  const auto& p = activation_params(*relu6);
  EXPECT_EQ(p.kind, ActivationKind::Relu6);
  EXPECT_EQ(p.alpha, 0.0);
  EXPECT_EQ(p.beta, 6.0);
  EXPECT_STREQ(activation_name(p.kind), "relu6");

  LayerCase g("gelu", {{1, 3}});
  g.attr("approximate", text("tanh"));
  auto gelu = g.build();
  EXPECT_EQ(activation_params(*gelu).kind, ActivationKind::GeluTanh);
  EXPECT_STREQ(activation_name(ActivationKind::GeluTanh), "gelu");

  LayerCase s("softplus", {{1, 3}});
  s.attr("beta", 3.0);
  auto soft = s.build();
  EXPECT_EQ(activation_params(*soft).alpha, 3.0);
  EXPECT_EQ(activation_params(*soft).beta, 20.0);

  LayerCase pr("prelu", {{1, 3, 2, 2}});
  pr.attr("num_parameters", 3).weight("weight", {3}, {0.1f, 0.2f, 0.3f});
  auto prelu = pr.build();
  ASSERT_NE(activation_params(*prelu).slope, nullptr);
  EXPECT_EQ(activation_params(*prelu).slope->name, "l1.weight");
  EXPECT_EQ(prelu->weights(), (std::vector<const TensorEntry*>{activation_params(*prelu).slope}));
}

TEST(ActivationValidation, NewKindsMessages) {
  struct Bad {
    std::string op;
    std::vector<std::pair<std::string, AttrValue>> attrs;
    std::string message;
  };
  const Bad bad[] = {
      {"hardtanh", {{"min_val", number(2.0)}, {"max_val", number(1.0)}},
       "layer l1 (hardtanh): attribute 'min_val' 2 is greater than max_val 1"},
      {"hardtanh", {{"max_val", number(-1.5)}}, "attribute 'min_val' -1 is greater than max_val -1.5"},
      {"hardtanh", {{"max_val", number(std::numeric_limits<double>::infinity())}},
       "attribute 'max_val' must be a finite number"},
      {"relu6", {{"max_val", number(6.0)}}, "unknown attribute 'max_val' (relu6 takes no attributes)"},
      {"softplus", {{"beta", number(0.0)}}, "attribute 'beta' must be positive, found 0 (softplus divides by beta)"},
      {"softplus", {{"beta", number(-2.0)}}, "attribute 'beta' must be positive, found -2"},
      {"softplus", {{"threshold", number(std::numeric_limits<double>::quiet_NaN())}},
       "attribute 'threshold' must be a finite number"},
      {"softplus", {{"alpha", number(1.0)}}, "unknown attribute 'alpha' (softplus takes: beta, threshold)"},
      {"gelu", {{"approximate", text("fast")}}, "attribute 'approximate': expected one of 'none', 'tanh'"},
      {"gelu", {{"approximate", flag(true)}}, "attribute 'approximate': expected one of 'none', 'tanh'"},
      {"gelu", {{"approximation", text("tanh")}}, "unknown attribute 'approximation' (gelu takes: approximate)"},
      {"silu", {{"beta", number(1.0)}}, "unknown attribute 'beta' (silu takes no attributes)"},
  };
  for (const Bad& b : bad) {
    LayerCase c(b.op, {{1, 3, 2, 2}});
    for (const auto& [key, value] : b.attrs) c.attr(key, value);
    EXPECT_THAT(c.build_error(), HasSubstr(b.message)) << b.op;
  }
  LayerCase weight("hardswish", {{1, 3}});
  weight.weight("weight", {3}, {});
  EXPECT_THAT(weight.build_error(), HasSubstr("weight role 'weight' is not used by hardswish (it takes no weights)"));
}

TEST(ActivationValidation, PreluMessages) {
  LayerCase count_mismatch("prelu", {{1, 4, 2, 2}}, "act");
  count_mismatch.attr("num_parameters", 3).weight("weight", {3}, {});
  EXPECT_THAT(count_mismatch.build_error(),
              HasSubstr("layer act (prelu): attribute 'num_parameters' 3 must be 1 (one slope for all channels) or the "
                        "input's 4 channels (one slope each)"));
  LayerCase shape("prelu", {{1, 4, 2, 2}});
  shape.attr("num_parameters", 4).weight("weight", {3}, {});
  EXPECT_THAT(shape.build_error(), HasSubstr("weight 'weight' = l1.weight has shape [3], expected [4] "
                                             "(num_parameters 4: one slope per channel)"));
  LayerCase shared("prelu", {{1, 4, 2, 2}});
  shared.weight("weight", {4}, {});
  EXPECT_THAT(shared.build_error(), HasSubstr("weight 'weight' = l1.weight has shape [4], expected [1] "
                                              "(num_parameters 1: one slope for all channels)"));
  LayerCase missing("prelu", {{1, 4}});
  EXPECT_THAT(missing.build_error(), HasSubstr("missing weight 'weight' (a tensor of shape [1])"));
  LayerCase zero("prelu", {{1, 4}});
  zero.attr("num_parameters", 0);
  EXPECT_THAT(zero.build_error(), HasSubstr("attribute 'num_parameters' must be at least 1, found 0"));
  LayerCase one_d("prelu", {{5}});
  one_d.attr("num_parameters", 5).weight("weight", {5}, {});
  EXPECT_THAT(one_d.build_error(), HasSubstr("attribute 'num_parameters' 5 must be 1 (one slope for all channels) or "
                                             "the input's 1 channels"));
  LayerCase two("prelu", {{1, 4}, {1, 4}});
  EXPECT_THAT(two.build_error(), HasSubstr("takes 1 input, found 2"));
  LayerCase extra("prelu", {{1, 4}});
  extra.attr("negative_slope", 0.25).weight("weight", {1}, {0.25f});
  EXPECT_THAT(extra.build_error(), HasSubstr("unknown attribute 'negative_slope' (prelu takes: num_parameters)"));
}

}  // namespace
}  // namespace kiln::test
