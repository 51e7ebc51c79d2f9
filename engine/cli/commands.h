// The kiln tool's commands. Each add_*_command adds its subcommand and options to the tool's CLI::App
// (engine/cli/options.h) and returns the function that runs it once the command line is parsed into
// the options it owns. That function returns the process exit code and throws kiln errors for main()
// to report, which maps each kind of error to one exit code (ExitCode).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace kiln {

// The exit codes of every kiln command, documented in `kiln --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitMismatch = 1,  // compare: an output (or layer) beyond tolerance, or NaN/Inf found by --check-finite
  kExitUsage = 2,     // bad command line or API use (UsageError)
  kExitBadInput = 3,  // a model or input file is malformed, inconsistent or too large (FormatError, ModelError)
  kExitDevice = 4,    // a CUDA, cuDNN or cuBLAS call failed (CudaError, CudnnError, CublasError)
  kExitInternal = 5,  // anything else: a kiln bug; please report it with the message
};

struct Command {
  CLI::App* app = nullptr;   // the subcommand, owned by the tool's CLI::App
  std::function<int()> run;  // runs it with the options parsed into its own state
};

Command add_run_command(CLI::App& tool);
Command add_compare_command(CLI::App& tool);
Command add_inspect_command(CLI::App& tool);
Command add_bench_command(CLI::App& tool);
Command add_profile_command(CLI::App& tool);
Command add_tune_command(CLI::App& tool);

}  // namespace kiln
