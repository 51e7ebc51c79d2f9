#include "engine/cli/device_options.h"

#include "engine/cli/options.h"

namespace kiln {

void add_device_options(OptionParser& p, RunnerOptions& o) {
  p.add_choice("device", {"auto", "cpu", "gpu"}, "where to run; auto = the GPU when one is present", &o.device);
  p.add_choice("precision", {"fp32", "tf32", "fp16"},
               "GPU arithmetic: fp32 is exact float32 (TF32 off); tf32 allows tensor cores (~1e-3 relative); fp16 "
               "stores half NHWC activations, float accumulation (~1e-3 relative)",
               &o.precision);
  p.add_choice("algo", {"heuristic", "find"},
               "GPU convolution algorithm choice: cuDNN heuristics (fast start) or time the candidates", &o.algo);
  p.add_int("workspace-mb", "MiB", "largest cuDNN workspace one layer may use", &o.workspace_mb);
}

void add_allow_extra_inputs(OptionParser& p, bool* allow) {
  p.add_flag("allow-extra-inputs", "warn about, instead of refusing, tensors in the inputs file that are not model inputs",
             allow);
}

}  // namespace kiln
