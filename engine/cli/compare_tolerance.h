// The tolerance `kiln compare` applies to each tensor: --atol and --rtol as given, else the defaults,
// which fit an export whose weights are f16 (`kiln_export --dtype f16`).
//
// Note [f16 weight tolerance]: the golden outputs come from the float32 model, so rounding each weight
// to f16 (relative error up to 2^-11) moves every layer's output. Measured on the CPU path (autoencoder,
// U-Net, ResNet-18 and ResNet-50, every layer), the largest error stays below 1.3e-3 of that tensor's
// largest |value| and the relative L2 error below 1e-3, but the absolute error ranges from 7e-4
// (a sigmoid output) to 0.3 (untrained ResNet-50's activations, ~200): no fixed atol fits them all.
// So the default atol for f16 weights is 1e-2 of each tensor's largest finite |PyTorch value| (at
// least the float32 default), rtol 1e-2: an 8x margin over what the rounding does.
#pragma once

#include <cstddef>
#include <string>

#include "engine/compare.h"
#include "formats/manifest.h"

namespace kiln::cli {

constexpr double kF16WeightsAtolShare = 1e-2;
constexpr double kF16WeightsRtol = 1e-2;

struct ToleranceChoice {
  CompareTolerance tol;   // as given, or the defaults
  double atol_share = 0;  // > 0: a tensor's atol = max(tol.atol, atol_share * its largest finite |expected|)
  bool atol_given = false, rtol_given = false;
  bool f16_weights = false;

  CompareTolerance for_tensor(const float* expected, std::size_t n) const;
  // For the "tolerance:" line: "atol 1e-05, rtol 1e-05 (the defaults; --atol and --rtol set them)".
  std::string describe() const;
};

// `values`: --atol and --rtol (their defaults when not given).
ToleranceChoice choose_tolerance(const CompareTolerance& values, bool atol_given, bool rtol_given, bool f16_weights);

// True when any tensor of the manifest is f16.
bool has_f16_weights(const Manifest& weights);

}  // namespace kiln::cli
