// The kiln tool's subcommands. Each parses argv[2..], returns the process exit code and throws kiln
// errors for main() to report, which maps each kind of error to one exit code (ExitCode).
#pragma once

namespace kiln {

// The exit codes of every kiln command, documented in `kiln --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitMismatch = 1,      // compare: an output (or layer) beyond tolerance, or NaN/Inf found by --check-finite
  kExitUsage = 2,         // bad command line or API use (UsageError)
  kExitBadInput = 3,      // a model or input file is malformed, inconsistent or too large (FormatError, ModelError)
  kExitDevice = 4,        // a CUDA, cuDNN or cuBLAS call failed (CudaError, CudnnError, CublasError)
  kExitInternal = 5,      // anything else: a kiln bug; please report it with the message
};

int cmd_run(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_profile(int argc, char** argv);

}  // namespace kiln
