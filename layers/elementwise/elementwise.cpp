#include "layers/elementwise/elementwise.h"

#include <cfloat>
#include <cmath>

#include "layers/common.h"

namespace kiln {

namespace {

ArithOp op_of(const LayerBuildContext& ctx) {
  const std::string& op = ctx.spec().op();
  if (op == "add") return ArithOp::Add;
  if (op == "sub") return ArithOp::Sub;
  if (op == "mul") return ArithOp::Mul;
  if (op == "div") return ArithOp::Div;
  ctx.fail("is not an elementwise op (add, sub, mul, div)");
}

std::string input_text(const LayerBuildContext& ctx, std::size_t i) {
  return "input " + std::to_string(i) + " '" + ctx.spec().inputs[i] + "'";
}

// Three or more inputs: add only, equal shapes (the sum has no broadcasting form).
void check_nary(const LayerBuildContext& ctx, ArithOp op) {
  const std::size_t n = ctx.spec().inputs.size();
  if (op != ArithOp::Add)
    ctx.fail("takes 1 or 2 inputs, found " + std::to_string(n) + "; only add takes 3 or more (of equal shape)");
  const Shape& first = ctx.input_shape(0);
  for (std::size_t i = 1; i < n; ++i)
    if (ctx.input_shape(i) != first)
      ctx.fail(input_text(ctx, i) + " has shape " + shape_to_string(ctx.input_shape(i)) + ", " + input_text(ctx, 0) +
               " has " + shape_to_string(first) + "; add of 3 or more inputs needs equal shapes");
}

// Two tensors: numpy broadcasting over equal ranks, the batch (dimension 0) equal. Returns the output shape.
Shape broadcast_pair(const LayerBuildContext& ctx, ArithOp op) {
  const Shape& a = ctx.input_shape(0);
  const Shape& b = ctx.input_shape(1);
  const std::string both = input_text(ctx, 1) + " has shape " + shape_to_string(b) + ", " + input_text(ctx, 0) +
                           " has " + shape_to_string(a);
  if (a.size() != b.size())
    ctx.fail(both + ": ranks " + std::to_string(b.size()) + " and " + std::to_string(a.size()) + " differ; " +
             arith_name(op) + " broadcasts tensors of equal rank");
  if (a[0] != b[0]) ctx.fail(both + ": dimension 0 (the batch) must be equal");
  Shape out = a;
  for (std::size_t d = 1; d < a.size(); ++d) {
    if (a[d] == b[d] || b[d] == 1) continue;
    if (a[d] != 1)
      ctx.fail(both + ": dimension " + std::to_string(d) + " is " + std::to_string(b[d]) + " and " +
               std::to_string(a[d]) + "; " + arith_name(op) + " broadcasts dimensions that are equal or 1");
    out[d] = b[d];
  }
  return out;
}

// One tensor and a constant: attribute `scalar` or weight `other`.
void read_constant(const LayerBuildContext& ctx, ElementwiseParams& p) {
  const bool scalar = ctx.attrs().has("scalar");
  const bool weight = ctx.spec().weights.count("other") != 0;
  if (scalar && weight) ctx.fail_attribute("scalar", "and weight 'other' are both given; the second operand is one of them");
  if (!scalar && !weight)
    ctx.fail("has one input and no second operand: give a second input, attribute 'scalar' or weight 'other'");
  p.reverse = ctx.attrs().get_bool("reverse", false);
  if (scalar) {
    if (ctx.attrs().has("other_per")) ctx.fail_attribute("other_per", "applies to weight 'other', which the layer does not name");
    p.second = SecondOperand::Scalar;
    const double s = finite_attribute(ctx, "scalar", 0.0);
    if (std::fabs(s) > FLT_MAX) ctx.fail_attribute("scalar", "is outside the float32 range (kiln computes in float32)");
    p.scalar = static_cast<float>(s);
    return;
  }
  p.second = SecondOperand::Weight;
  const Shape& x = ctx.input_shape(0);
  const bool per_channel = ctx.attrs().get_choice("other_per", {"channel", "sample"}, "channel") == "channel";
  if (x.size() < 2)
    ctx.fail("weight 'other' needs an input of rank 2 or more, found shape " + shape_to_string(x) +
             " (a single constant is attribute 'scalar')");
  Shape expected(x.begin() + 1, x.end());  // the input without its batch
  if (per_channel)
    for (std::size_t d = 1; d < expected.size(); ++d) expected[d] = 1;
  p.other = &ctx.weight("other", expected,
                        per_channel ? "other_per channel: one value per channel, the input's rank without the batch"
                                    : "other_per sample: the input's shape without the batch");
  p.other_aligned = Shape{1};
  p.other_aligned.insert(p.other_aligned.end(), expected.begin(), expected.end());
}

}  // namespace

std::unique_ptr<Layer> make_elementwise(const LayerBuildContext& ctx) {
  ctx.expect_min_input_count(1);
  ElementwiseParams p;
  p.op = op_of(ctx);
  const std::size_t n = ctx.spec().inputs.size();
  Shape out = ctx.input_shape(0);
  if (n >= 2) {
    if (ctx.attrs().has("scalar"))
      ctx.fail_attribute("scalar", "is given with a second input '" + ctx.spec().inputs[1] +
                                       "'; the second operand is input 1, attribute 'scalar' or weight 'other'");
    if (ctx.spec().weights.count("other") != 0)
      ctx.fail("weight 'other' is given with a second input '" + ctx.spec().inputs[1] +
               "'; the second operand is input 1, attribute 'scalar' or weight 'other'");
    if (ctx.attrs().has("reverse"))
      ctx.fail_attribute("reverse", "applies to a scalar or weight operand; with two inputs, swap them");
    if (n == 2) {
      out = broadcast_pair(ctx, p.op);
    } else {
      check_nary(ctx, p.op);
    }
  } else {
    read_constant(ctx, p);
  }
  ctx.finish();
  return std::make_unique<ElementwiseLayer>(ctx, out, p);
}

std::vector<std::int64_t> broadcast_strides(const Shape& operand, const Shape& out) {
  std::vector<std::int64_t> s(out.size(), 0);
  std::int64_t stride = 1;
  for (std::size_t d = out.size(); d-- > 0;) {
    s[d] = operand[d] == out[d] ? stride : 0;
    stride *= operand[d];
  }
  return s;
}

ElementwiseLayer::ElementwiseLayer(const LayerBuildContext& ctx, Shape output_shape, const ElementwiseParams& params)
    : Layer(ctx, std::move(output_shape)), params_(params) {
  keep(params_.other);
}

bool ElementwiseLayer::equal_shapes() const {
  if (params_.second != SecondOperand::Tensor) return false;
  for (const Shape& s : input_shapes())
    if (s != output_shape()) return false;
  return true;
}

namespace {

// y[i] = a[..] op b[..] over `out`, reading a and b through broadcast strides (an odometer over the
// dimensions keeps the loop free of divisions). A null `b` is the scalar `s`; `swap` computes b op a.
template <ArithOp Op>
void broadcast_loop(const Shape& out, const float* a, const std::vector<std::int64_t>& sa, const float* b,
                    const std::vector<std::int64_t>& sb, float s, bool swap, float* y) {
  const std::size_t rank = out.size();
  const std::int64_t n = elements(out);
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t ia = 0, ib = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float u = a[ia];
    const float v = b ? b[ib] : s;
    y[i] = swap ? arith<Op>(v, u) : arith<Op>(u, v);
    for (std::size_t d = rank; d-- > 0;) {
      ia += sa[d];
      ib += b ? sb[d] : 0;
      if (++index[d] < out[d]) break;
      ia -= sa[d] * out[d];
      ib -= b ? sb[d] * out[d] : 0;
      index[d] = 0;
    }
  }
}

}  // namespace

void ElementwiseLayer::forward_cpu(const CpuForwardArgs& args) const {
  check_forward(args);
  const Shape out = at_batch(output_shape(), args.batch);
  float* y = args.output;
  if (params_.op == ArithOp::Add && equal_shapes()) {
    // The n-ary sum, left to right (a residual add in place over input 0 reads each element before
    // writing it).
    const std::int64_t n = elements(out);
    const float* a = args.inputs[0];
    const float* b = args.inputs[1];
    for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
    for (std::size_t k = 2; k < args.inputs.size(); ++k) {
      const float* x = args.inputs[k];
      for (std::int64_t i = 0; i < n; ++i) y[i] += x[i];
    }
    return;
  }
  const Shape a_shape = at_batch(input_shapes()[0], args.batch);
  const float* b = nullptr;
  Shape b_shape;
  if (params_.second == SecondOperand::Tensor) {
    b = args.inputs[1];
    b_shape = at_batch(input_shapes()[1], args.batch);
  } else if (params_.second == SecondOperand::Weight) {
    b = args.weights->get(*params_.other);
    b_shape = params_.other_aligned;  // batch 1: the same values for every sample
  }
  const std::vector<std::int64_t> sa = broadcast_strides(a_shape, out);
  const std::vector<std::int64_t> sb = b ? broadcast_strides(b_shape, out) : std::vector<std::int64_t>{};
  switch (params_.op) {
#define KILN_ARITH_LOOP(K)                                                                     \
  case ArithOp::K:                                                                             \
    broadcast_loop<ArithOp::K>(out, args.inputs[0], sa, b, sb, params_.scalar, params_.reverse, y); \
    break;
    KILN_ARITH_LOOP(Add)
    KILN_ARITH_LOOP(Sub)
    KILN_ARITH_LOOP(Mul)
    KILN_ARITH_LOOP(Div)
#undef KILN_ARITH_LOOP
  }
}

}  // namespace kiln
