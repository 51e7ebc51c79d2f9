// kiln: run, compare and inspect exported PyTorch models on cuDNN or the CPU reference path.
#include <cudnn.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "engine/cli/commands.h"
#include "kiln/version.h"
#include "base/errors.h"
#include "base/text.h"

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
    "`kiln <command> --help` describes each command's options; `kiln --version` prints the version.\n"
    "\n"
    "exit codes: 0 success; 1 compare found outputs beyond tolerance (or NaN/Inf); 2 bad command line;\n"
    "3 a model or input file is malformed, inconsistent or too large; 4 a CUDA, cuDNN or cuBLAS call failed;\n"
    "5 an internal error (a kiln bug: please report the message).\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version"))) {
    const std::size_t v = cudnnGetVersion();  // the cuDNN loaded now, e.g. 91400
    std::printf("kiln %s (built with CUDA %s and cuDNN %s; cuDNN %zu.%zu.%zu loaded)\n", KILN_VERSION_STRING,
                KILN_BUILT_WITH_CUDA, KILN_BUILT_WITH_CUDNN, v / 10000, v / 100 % 100, v % 100);
    return kiln::kExitOk;
  }
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kiln::kExitUsage : kiln::kExitOk;
  }
  const std::string command = argv[1];
  try {
    if (command == "run") return kiln::cmd_run(argc, argv);
    if (command == "compare") return kiln::cmd_compare(argc, argv);
    if (command == "inspect") return kiln::cmd_inspect(argc, argv);
    if (command == "bench") return kiln::cmd_bench(argc, argv);
    if (command == "profile") return kiln::cmd_profile(argc, argv);
    std::fprintf(stderr, "kiln: unknown command %s\n\n%s", kiln::quote(command).c_str(), kUsage);
    return kiln::kExitUsage;
  } catch (const kiln::UsageError& e) {
    std::fprintf(stderr, "kiln %s: %s\n", command.c_str(), e.what());
    return kiln::kExitUsage;
  } catch (const kiln::LibraryError& e) {
    std::fprintf(stderr, "kiln %s: device error: %s\n", command.c_str(), e.what());
    return kiln::kExitDevice;
  } catch (const kiln::Error& e) {  // FormatError, ModelError and the rest of kiln's own
    std::fprintf(stderr, "kiln %s: error: %s\n", command.c_str(), e.what());
    return kiln::kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "kiln %s: error: out of host memory (KILN_HOST_MEMORY_LIMIT_MB bounds what kiln asks for)\n",
                 command.c_str());
    return kiln::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln %s: internal error: %s (please report this)\n", command.c_str(), e.what());
    return kiln::kExitInternal;
  }
}
