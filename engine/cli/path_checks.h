// Checks on the paths given to kiln's options, made while the command line is parsed, before anything
// is loaded or run: a clear UsageError (exit 2) naming the option and the path instead of a failure
// after minutes of inference or a confusing parse error from the wrong kind of file.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace kiln::cli {

// What is wrong with `path` as a --model, or "" when nothing is: a file of another format (.onnx,
// .pt/.pth, .ts, .engine/.plan, .safetensors) gets what kiln reads and the kiln_export command.
// A folder is never refused here, whatever its name.
std::string foreign_model_problem(const std::string& path);

// What is wrong with `path` as a file kiln is to write, or "" when nothing is: it must not be a
// folder, and its folder must exist and be writable (as must the file, when it exists).
std::string output_path_problem(const std::string& path);

// The two as CLI11 validators: "--model: net.onnx is an ONNX model; ...".
CLI::Validator kiln_model_path();
CLI::Validator writable_output_path();
// writable_output_path() for a tensor file (run --output): also NAME.manifest, as the writer requires.
CLI::Validator tensor_output_path();

}  // namespace kiln::cli
