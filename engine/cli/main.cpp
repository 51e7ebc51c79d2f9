// kiln: run, compare and inspect exported PyTorch models on cuDNN or the CPU reference path.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "engine/cli/commands.h"
#include "base/errors.h"

namespace {

const char* kUsage =
    "usage: kiln <command> [options]\n"
    "\n"
    "kiln runs PyTorch models exported with `python3 -m kiln_export` (model.yaml + weights.manifest +\n"
    "weights.bin) on NVIDIA GPUs through cuDNN and cuBLAS, or on the CPU reference path.\n"
    "\n"
    "commands:\n"
    "  run       run a model on an input tensor file, write the outputs\n"
    "  compare   run the golden inputs the exporter wrote and compare with PyTorch's outputs\n"
    "  inspect   print the layers, shapes and the activation memory plan\n"
    "  bench     measure throughput, latency percentiles, start-up and device memory (like trtexec)\n"
    "  profile   time every layer on the GPU with CUDA events, slowest first\n"
    "\n"
    "`kiln <command> --help` describes each command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  try {
    if (command == "run") return kiln::cmd_run(argc, argv);
    if (command == "compare") return kiln::cmd_compare(argc, argv);
    if (command == "inspect") return kiln::cmd_inspect(argc, argv);
    if (command == "bench") return kiln::cmd_bench(argc, argv);
    if (command == "profile") return kiln::cmd_profile(argc, argv);
    std::fprintf(stderr, "kiln: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const kiln::UsageError& e) {
    std::fprintf(stderr, "kiln %s: %s\n", command.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln %s: error: %s\n", command.c_str(), e.what());
    return 3;
  }
}
