#include "engine/cli/path_checks.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace kiln::cli {

namespace {

namespace fs = std::filesystem;

struct ForeignFormat {
  const char* extension;
  const char* what;
};

constexpr ForeignFormat kForeignFormats[] = {
    {".onnx", "an ONNX model"},
    {".pt", "a PyTorch checkpoint"},
    {".pth", "a PyTorch checkpoint"},
    {".ts", "a TorchScript file"},
    {".engine", "a TensorRT engine"},
    {".plan", "a TensorRT engine"},
    {".safetensors", "a safetensors file"},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

CLI::Validator validator(std::string (*problem)(const std::string&)) {
  // No description: CLI11 would append it to the metavar in the help.
  return CLI::Validator([problem](std::string& v) { return problem(v); }, "");
}

std::string tensor_output_problem(const std::string& path) {
  const std::string problem = output_path_problem(path);
  if (problem.empty() && fs::path(path).extension() != ".manifest") {
    return path + ": tensor files are written as NAME.manifest (and NAME.bin beside it)";
  }
  return problem;
}

}  // namespace

std::string foreign_model_problem(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return "";
  const std::string extension = lower(fs::path(path).extension().string());
  for (const ForeignFormat& f : kForeignFormats) {
    if (extension != f.extension) continue;
    const bool checkpoint = extension == ".pt" || extension == ".pth";
    return path + " is " + f.what +
           "; kiln reads a folder written by kiln_export (model.yaml, weights.manifest and weights.bin): "
           "python3 -m kiln_export --model pkg.module:factory " +
           (checkpoint ? "--checkpoint " + path + " " : std::string()) +
           "--input-shape 1,3,224,224 --out DIR (exporter/README.md)";
  }
  return "";
}

std::string output_path_problem(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) return path + " is a folder; give the path of the file to write";
  const fs::path folder = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const fs::file_status st = fs::status(folder, ec);
  if (!fs::exists(st)) return path + ": its folder " + folder.string() + " does not exist";
  if (!fs::is_directory(st)) return path + ": " + folder.string() + " is not a folder";
  if (::access(folder.c_str(), W_OK) != 0) return path + ": its folder " + folder.string() + " is not writable";
  if (fs::exists(p, ec) && ::access(p.c_str(), W_OK) != 0) return path + " exists and is not writable";
  return "";
}

CLI::Validator kiln_model_path() { return validator(foreign_model_problem); }
CLI::Validator writable_output_path() { return validator(output_path_problem); }
CLI::Validator tensor_output_path() { return validator(tensor_output_problem); }

}  // namespace kiln::cli
