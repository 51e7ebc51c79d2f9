// A program outside kiln's source tree, built against an installed kiln (find_package or pkg-config):
// runs an export's golden inputs on the CPU reference path and checks PyTorch's golden outputs.
#include <cmath>
#include <cstdio>
#include <exception>

#include "engine/host_tensor.h"
#include "engine/runner.h"
#include "kiln/version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const auto inputs = kiln::read_host_tensors(dir + "/golden/inputs.manifest");
    const auto golden = kiln::read_host_tensors(dir + "/golden/outputs.manifest");
    kiln::RunnerOptions options;
    options.model = dir;
    options.device = "cpu";
    const auto runner = kiln::make_runner(options);
    const kiln::RunResult r = runner->run(inputs, inputs.at(0).shape.at(0), {});
    double worst = 0;
    for (std::size_t i = 0; i < r.outputs.at(0).data.size(); ++i)
      worst = std::fmax(worst, std::fabs(r.outputs[0].data[i] - golden.at(0).data.at(i)));
    std::printf("kiln %s, %s: max abs difference from PyTorch %.3g\n", KILN_VERSION_STRING,
                runner->device_description().c_str(), worst);
    return worst < 1e-4 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
