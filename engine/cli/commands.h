// The kiln tool's subcommands. Each parses argv[2..], returns the process exit code and throws kiln
// errors for main() to report. Exit codes: 0 success, 1 comparison mismatch, 2 usage error, 3 any
// other error.
#pragma once

namespace kiln {

int cmd_run(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_profile(int argc, char** argv);

}  // namespace kiln
