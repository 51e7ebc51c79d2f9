// kiln: run, compare and inspect exported PyTorch models on cuDNN or the CPU reference path.
#include <cudnn.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "base/errors.h"
#include "engine/cli/commands.h"
#include "engine/cli/options.h"
#include "kiln/version.h"

namespace {

const char* kDescription =
    "kiln runs PyTorch models exported with `python3 -m kiln_export` (model.yaml + weights.manifest +\n"
    "weights.bin) on NVIDIA GPUs through cuDNN and cuBLAS, or on the CPU reference path.";

const char* kFooter =
    "`kiln <command> --help` describes each command's options; `kiln --version` prints the version.\n"
    "\n"
    "exit codes: 0 success; 1 compare found outputs beyond tolerance (or NaN/Inf); 2 bad command line;\n"
    "3 a model or input file is malformed, inconsistent or too large; 4 a CUDA, cuDNN or cuBLAS call failed;\n"
    "5 an internal error (a kiln bug: please report the message).";

std::string version() {
  const std::size_t v = cudnnGetVersion();  // the cuDNN loaded now, e.g. 91400
  char buf[256];
  std::snprintf(buf, sizeof buf, "kiln %s (built with CUDA %s and cuDNN %s; cuDNN %zu.%zu.%zu loaded)",
                KILN_VERSION_STRING, KILN_BUILT_WITH_CUDA, KILN_BUILT_WITH_CUDNN, v / 10000, v / 100 % 100, v % 100);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App tool(kDescription, "kiln");
  kiln::cli::configure_tool(tool);
  tool.set_version_flag("--version", version, "print the version and exit");
  tool.require_subcommand(0, 1);
  const std::vector<kiln::Command> commands = {kiln::add_run_command(tool), kiln::add_compare_command(tool),
                                               kiln::add_inspect_command(tool), kiln::add_bench_command(tool),
                                               kiln::add_profile_command(tool), kiln::add_tune_command(tool)};
  tool.footer(kFooter);
  if (argc < 2) {
    std::fputs(tool.help().c_str(), stderr);
    return kiln::kExitUsage;
  }
  try {
    const CLI::App* chosen = kiln::cli::parse(tool, argc, argv);
    if (!chosen) return kiln::kExitOk;  // --help or --version
    for (const kiln::Command& c : commands) {
      if (c.app == chosen) return c.run();
    }
    throw std::logic_error("no body for command " + chosen->get_name());
  } catch (const kiln::UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", kiln::cli::command_name(tool).c_str(), e.what());
    return kiln::kExitUsage;
  } catch (const kiln::LibraryError& e) {
    std::fprintf(stderr, "%s: device error: %s\n", kiln::cli::command_name(tool).c_str(), e.what());
    return kiln::kExitDevice;
  } catch (const kiln::Error& e) {  // FormatError, ModelError and the rest of kiln's own
    std::fprintf(stderr, "%s: error: %s\n", kiln::cli::command_name(tool).c_str(), e.what());
    return kiln::kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of host memory (KILN_HOST_MEMORY_LIMIT_MB bounds what kiln asks for)\n",
                 kiln::cli::command_name(tool).c_str());
    return kiln::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s (please report this)\n", kiln::cli::command_name(tool).c_str(),
                 e.what());
    return kiln::kExitInternal;
  }
}
