// Plain parameter records of the layer kinds, shared by the CPU reference implementations and the
// GPU backend. Each is filled and validated once, when its layer is built; backends only read them.
// Spatial pairs are {height, width}.
#pragma once

#include <array>
#include <cstdint>

namespace kiln {

using Pair = std::array<std::int64_t, 2>;

// conv2d and conv_transpose2d. For a transposed convolution the weight is [in, out/groups, kh, kw]
// (PyTorch's layout) and output_padding applies; otherwise the weight is [out, in/groups, kh, kw].
struct ConvParams {
  bool transposed = false;
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  Pair kernel{1, 1};
  Pair stride{1, 1};
  Pair padding{0, 0};
  Pair dilation{1, 1};
  Pair output_padding{0, 0};
  std::int64_t groups = 1;
  bool has_bias = false;
};

enum class PoolMode { Max, Average, GlobalAverage };

struct PoolParams {
  PoolMode mode = PoolMode::Max;
  Pair kernel{1, 1};  // for GlobalAverage: the input's H, W
  Pair stride{1, 1};
  Pair padding{0, 0};
  bool count_include_pad = true;  // Average only
};

enum class ActivationKind { Relu, LeakyRelu, Sigmoid, Tanh, Elu };

struct ActivationParams {
  ActivationKind kind = ActivationKind::Relu;
  double alpha = 0.0;  // LeakyRelu: negative_slope; Elu: alpha
};

struct LinearParams {
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  bool has_bias = false;
};

// PyTorch LocalResponseNorm: b_c = a_c / (k + alpha/size * sum_{c' in window(c)} a_c'^2)^beta, the
// window running from c - size/2 to c + (size-1)/2, clipped to the channels.
struct LrnParams {
  std::int64_t size = 5;
  double alpha = 1e-4;
  double beta = 0.75;
  double k = 1.0;
};

struct UpsampleParams {
  Pair scale{2, 2};
};

}  // namespace kiln
