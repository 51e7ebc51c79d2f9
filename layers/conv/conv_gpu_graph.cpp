#include "layers/conv/conv_gpu_graph.h"

#include <cstddef>
#include <optional>
#include <sstream>
#include <string>

#include "engine/gpu/check.h"

namespace kiln::gpu {

namespace {

// Virtual intermediates of a fused graph (never bound in the variant pack).
constexpr std::int64_t kUidConvOut = 5;
constexpr std::int64_t kUidBiasOut = 6;
constexpr std::int64_t kUidResidualOut = 7;

std::vector<std::int64_t> packed_strides(const Shape& dims) {
  std::vector<std::int64_t> s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// Strides of a packed 4-D [d0, d1, d2, d3] tensor stored as [d0][d2][d3][d1] (NHWC, KRSC).
std::vector<std::int64_t> channels_last_strides(const Shape& d) {
  return {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]};
}

BackendDescriptor make_tensor(std::int64_t uid, const Shape& dims, cudnnDataType_t type, std::int64_t alignment,
                              bool is_virtual, bool channels_last = false) {
  BackendDescriptor t(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  t.set(CUDNN_ATTR_TENSOR_DATA_TYPE, type)
      .set(CUDNN_ATTR_TENSOR_DIMENSIONS, std::vector<std::int64_t>(dims.begin(), dims.end()))
      .set(CUDNN_ATTR_TENSOR_STRIDES, channels_last ? channels_last_strides(dims) : packed_strides(dims))
      .set(CUDNN_ATTR_TENSOR_UNIQUE_ID, uid)
      .set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, alignment);
  if (is_virtual) t.set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, true);
  t.finalize();
  return t;
}

BackendDescriptor make_conv_desc(const ConvParams& p, cudnnDataType_t compute) {
  BackendDescriptor c(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  // PyTorch's convolution is a cross-correlation; padding is symmetric. For the transposed case the
  // same descriptor describes the forward convolution whose data gradient we compute.
  c.set(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, std::int64_t{2})
      .set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, compute)
      .set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_CROSS_CORRELATION)
      .set(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, std::vector<std::int64_t>{p.padding[0], p.padding[1]})
      .set(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, std::vector<std::int64_t>{p.padding[0], p.padding[1]})
      .set(CUDNN_ATTR_CONVOLUTION_DILATIONS, std::vector<std::int64_t>{p.dilation[0], p.dilation[1]})
      .set(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, std::vector<std::int64_t>{p.stride[0], p.stride[1]})
      .finalize();
  return c;
}

BackendDescriptor make_pointwise(cudnnPointwiseMode_t mode, cudnnDataType_t compute, const ActivationParams* act) {
  BackendDescriptor pw(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
  pw.set(CUDNN_ATTR_POINTWISE_MODE, mode).set(CUDNN_ATTR_POINTWISE_MATH_PREC, compute);
  switch (act ? act->kind : ActivationKind::Relu) {
    case ActivationKind::LeakyRelu:
      pw.set(CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, act->alpha);
      break;
    case ActivationKind::Relu6:  // clamp: RELU_FWD clipped below and above, slope 0
    case ActivationKind::Hardtanh:
      pw.set(CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, act->alpha).set(CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, act->beta);
      break;
    case ActivationKind::Elu:
      pw.set(CUDNN_ATTR_POINTWISE_ELU_ALPHA, act->alpha);
      break;
    case ActivationKind::Silu:  // swish(x) = x * sigmoid(beta * x), beta 1
      pw.set(CUDNN_ATTR_POINTWISE_SWISH_BETA, 1.0);
      break;
    case ActivationKind::Softplus:
      pw.set(CUDNN_ATTR_POINTWISE_SOFTPLUS_BETA, act->alpha);
      break;
    default:  // no attributes
      break;
  }
  pw.finalize();
  return pw;
}

// cuDNN's pointwise mode for an activation, when it computes kiln's formula (activation_math.h); else
// nullopt, and the convolution applies the activation with kiln's epilogue kernel. cuDNN has no
// hardswish, hardsigmoid or mish mode, and prelu is never folded (its slopes are weights).
// Softplus: cuDNN's mode has no threshold; above it PyTorch returns x, which differs from
// log1p(exp(beta*x))/beta by less than exp(-threshold)/beta -- below float rounding for the default 20
// and above, not for a smaller threshold.
std::optional<cudnnPointwiseMode_t> activation_mode(const ActivationParams& a) {
  switch (a.kind) {
    case ActivationKind::Relu:
    case ActivationKind::LeakyRelu:
    case ActivationKind::Relu6:     // RELU_FWD with lower and upper clips (slope 0) is clamp
    case ActivationKind::Hardtanh:
      return CUDNN_POINTWISE_RELU_FWD;
    case ActivationKind::Sigmoid:
      return CUDNN_POINTWISE_SIGMOID_FWD;
    case ActivationKind::Tanh:
      return CUDNN_POINTWISE_TANH_FWD;
    case ActivationKind::Elu:
      return CUDNN_POINTWISE_ELU_FWD;
    case ActivationKind::Silu:
      return CUDNN_POINTWISE_SWISH_FWD;  // x * sigmoid(1 * x)
    case ActivationKind::Gelu:
      return CUDNN_POINTWISE_GELU_FWD;
    case ActivationKind::GeluTanh:
      return CUDNN_POINTWISE_GELU_APPROX_TANH_FWD;
    case ActivationKind::Softplus:
      if (a.beta >= 20.0) return CUDNN_POINTWISE_SOFTPLUS_FWD;
      return std::nullopt;
    case ActivationKind::Hardswish:
    case ActivationKind::Hardsigmoid:
    case ActivationKind::Mish:
    case ActivationKind::Prelu:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

ConvGraph build_conv_graph(cudnnHandle_t handle, const ConvGraphDesc& d) {
  // Before any descriptor: an activation cuDNN cannot compute is a fusion pattern it cannot express.
  const std::optional<cudnnPointwiseMode_t> mode = d.activation ? activation_mode(*d.activation) : std::nullopt;
  if (d.activation && !mode) {
    throw CudnnError("cuDNN", CUDNN_STATUS_NOT_SUPPORTED, "no pointwise mode",
                     std::string("build_conv_graph: cuDNN has no pointwise mode that computes ") +
                         activation_name(d.activation->kind) + " as kiln does",
                     source_location(__FILE__, __LINE__), current_layer());
  }
  const ConvParams& p = d.conv;
  ConvGraph g;
  auto keep = [&g](BackendDescriptor desc) -> const BackendDescriptor* {
    g.parts.push_back(std::move(desc));
    return &g.parts.back();
  };
  // Filter dims are always those of the forward convolution: [K, C/groups, kh, kw]. For a transposed
  // convolution PyTorch's weight [in, out/groups, kh, kw] is exactly that, with K = the layer's input
  // channels; cuDNN infers the group count from the channel counts.
  const Shape w_dims = d.channels_last ? d.w
                      : p.transposed ? Shape{p.in_channels, p.out_channels / p.groups, p.kernel[0], p.kernel[1]}
                                     : Shape{p.out_channels, p.in_channels / p.groups, p.kernel[0], p.kernel[1]};
  const bool cl = d.channels_last;
  const bool fused = d.bias || d.residual || d.activation.has_value();
  const BackendDescriptor* x = keep(make_tensor(kUidX, d.x, d.io_type, d.data_alignment, false, cl));
  const BackendDescriptor* w = keep(make_tensor(kUidW, w_dims, d.io_type, d.weight_alignment, false, cl));
  const BackendDescriptor* y = keep(make_tensor(kUidY, d.y, d.io_type, d.data_alignment, false, cl));
  const BackendDescriptor* conv_out =
      fused ? keep(make_tensor(kUidConvOut, d.y, d.compute_type, d.data_alignment, true, cl)) : y;
  const BackendDescriptor* conv = keep(make_conv_desc(p, d.compute_type));

  std::vector<const BackendDescriptor*> ops;
  if (!p.transposed) {
    BackendDescriptor op(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
    op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, *x)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, *w)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, *conv_out)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, *conv)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, 1.0f)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, 0.0f)
        .finalize();
    ops.push_back(keep(std::move(op)));
  } else {
    // Transposed convolution = the data gradient of the forward convolution from y's shape to x's.
    BackendDescriptor op(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR);
    op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, *x)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, *w)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, *conv_out)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, *conv)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, 1.0f)
        .set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, 0.0f)
        .finalize();
    ops.push_back(keep(std::move(op)));
  }

  const BackendDescriptor* last = conv_out;
  if (d.bias) {
    const BackendDescriptor* b =
        keep(make_tensor(kUidBias, Shape{1, d.y[1], 1, 1}, d.io_type, d.weight_alignment, false, cl));
    const BackendDescriptor* out = d.residual || d.activation
                                       ? keep(make_tensor(kUidBiasOut, d.y, d.compute_type, d.data_alignment, true, cl))
                                       : y;
    const BackendDescriptor* pw = keep(make_pointwise(CUDNN_POINTWISE_ADD, d.compute_type, nullptr));
    BackendDescriptor op(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    op.set(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, *pw)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, *last)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *b)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, *out)
        .finalize();
    ops.push_back(keep(std::move(op)));
    last = out;
  }
  if (d.residual) {  // + the residual, a real tensor of y's shape and layout
    const BackendDescriptor* r = keep(make_tensor(kUidResidual, d.y, d.io_type, d.data_alignment, false, cl));
    const BackendDescriptor* out =
        d.activation ? keep(make_tensor(kUidResidualOut, d.y, d.compute_type, d.data_alignment, true, cl)) : y;
    const BackendDescriptor* pw = keep(make_pointwise(CUDNN_POINTWISE_ADD, d.compute_type, nullptr));
    BackendDescriptor op(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    op.set(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, *pw)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, *last)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *r)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, *out)
        .finalize();
    ops.push_back(keep(std::move(op)));
    last = out;
  }
  if (d.activation) {
    const BackendDescriptor* pw = keep(make_pointwise(*mode, d.compute_type, &*d.activation));
    BackendDescriptor op(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    op.set(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, *pw)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, *last)
        .set(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, *y)
        .finalize();
    ops.push_back(keep(std::move(op)));
  }

  g.has_bias = d.bias;
  g.has_residual = d.residual;
  g.graph = BackendDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  g.graph.set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, handle).set(CUDNN_ATTR_OPERATIONGRAPH_OPS, ops).finalize();
  return g;
}

std::string EngineChoice::name() const {
  std::ostringstream s;
  s << "eng" << engine_id;
  for (const auto& [type, value] : knobs) s << "_k" << static_cast<int>(type) << "=" << value;
  return s.str();
}

std::optional<EngineChoice> EngineChoice::parse(const std::string& name) {
  // Digits only (an optional leading '-' for the engine), each number within int64.
  const auto number = [](const std::string& s, std::size_t& at, bool sign) -> std::optional<std::int64_t> {
    const std::size_t start = at;
    if (sign && at < s.size() && s[at] == '-') ++at;
    const std::size_t digits = at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    if (at == digits || at - digits > 18) return std::nullopt;
    return std::stoll(s.substr(start, at - start));
  };
  if (name.rfind("eng", 0) != 0) return std::nullopt;
  std::size_t at = 3;
  EngineChoice c;
  const auto id = number(name, at, true);
  if (!id) return std::nullopt;
  c.engine_id = *id;
  while (at < name.size()) {
    if (name.compare(at, 2, "_k") != 0) return std::nullopt;
    at += 2;
    const auto type = number(name, at, false);
    if (!type || *type > 1000 || at >= name.size() || name[at] != '=') return std::nullopt;
    ++at;
    const auto value = number(name, at, true);
    if (!value) return std::nullopt;
    c.knobs.emplace_back(static_cast<cudnnBackendKnobType_t>(*type), *value);
  }
  return c;
}

std::string conv_graph_signature(const ConvGraphDesc& d) {
  std::ostringstream s;
  const auto pair = [&](const char* name, const Pair& p) { s << name << "=" << p[0] << "x" << p[1] << " "; };
  const auto dims = [&](const char* name, const Shape& sh) { s << name << "=" << shape_to_string(sh) << " "; };
  s << (d.conv.transposed ? "dgrad " : "conv ") << "c=" << d.conv.in_channels << " k=" << d.conv.out_channels
    << " g=" << d.conv.groups << " ";
  pair("r", d.conv.kernel);
  pair("s", d.conv.stride);
  pair("p", d.conv.padding);
  pair("d", d.conv.dilation);
  pair("op", d.conv.output_padding);
  dims("x", d.x);
  dims("y", d.y);
  if (d.channels_last) dims("w_krsc", d.w);
  s << "bias=" << d.bias << " ";
  if (d.residual) s << "residual=1 ";  // only when set: the keys of every other graph stay as they were
  s << "act=";
  if (d.activation) {
    s.precision(17);
    s << activation_name(d.activation->kind) << "(" << d.activation->alpha << "," << d.activation->beta << ")";
  } else {
    s << "none";
  }
  s << " io=" << static_cast<int>(d.io_type) << " compute=" << static_cast<int>(d.compute_type)
    << " align=" << d.data_alignment << "/" << d.weight_alignment;
  return s.str();
}

BackendDescriptor make_variant_pack(const ConvPointers& p, bool with_bias, bool with_residual, void* workspace) {
  std::vector<void*> ptrs{const_cast<void*>(p.x), const_cast<void*>(p.w), p.y};
  std::vector<std::int64_t> uids{kUidX, kUidW, kUidY};
  if (with_bias) {
    ptrs.push_back(const_cast<void*>(p.bias));
    uids.push_back(kUidBias);
  }
  if (with_residual) {
    ptrs.push_back(const_cast<void*>(p.residual));
    uids.push_back(kUidResidual);
  }
  BackendDescriptor vp(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  vp.set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, ptrs)
      .set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, uids)
      .set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, workspace)
      .finalize();
  return vp;
}

}  // namespace kiln::gpu
