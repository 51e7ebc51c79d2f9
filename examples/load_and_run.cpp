// Loading an exported model from C++ and running it: on the GPU when one is present, else on the CPU
// reference path. Build: part of the kiln build (target kiln_example_load_and_run).
//
//   python3 -m kiln_export --model torchvision.models:resnet18 --input-shape 1,3,224,224 --out resnet18
//   build/examples/kiln_example_load_and_run resnet18
#include <cstdio>
#include <exception>

#include "engine/host_tensor.h"
#include "engine/runner.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR   (a folder written by kiln_export, with golden/inputs.manifest)\n",
                 argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    // The exporter's example input; any float32 tensors of the input's shape will do.
    const std::vector<kiln::HostTensor> inputs = kiln::read_host_tensors(dir + "/golden/inputs.manifest");
    const std::int64_t batch = inputs.at(0).shape.at(0);

    // The shared backend interface (engine/runner.h): "auto" takes the GPU when one is usable, else the
    // CPU reference path. For streams, CUDA graphs and device pointers, use kiln::gpu::GpuEngine (immutable,
    // shareable) with one kiln::gpu::ExecutionContext per thread (engine/gpu/context.h).
    kiln::RunnerOptions options;
    options.model = dir;
    options.device = "auto";
    const std::unique_ptr<kiln::ModelRunner> runner = kiln::make_runner(options);
    std::printf("device: %s\n", runner->device_description().c_str());
    const kiln::RunResult result = runner->run(inputs, batch, {});
    for (const kiln::HostTensor& t : result.outputs) {
      std::printf("%s %s: first values", t.name.c_str(), kiln::shape_to_string(t.shape).c_str());
      for (std::size_t i = 0; i < t.data.size() && i < 5; ++i) std::printf(" %.6g", t.data[i]);
      std::printf("\n");
    }
    return 0;
  } catch (const std::exception& e) {  // kiln::Error and its kinds name the file, layer and field
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
