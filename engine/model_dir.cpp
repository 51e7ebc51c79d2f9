#include "engine/model_dir.h"

#include <filesystem>

#include "base/errors.h"

namespace kiln {

namespace {
// "a directory", "a named pipe", ... for an existing path that is not a regular file.
std::string kind_of(const std::filesystem::file_status& st) {
  namespace fs = std::filesystem;
  switch (st.type()) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::fifo:
      return "a named pipe";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}
}  // namespace

// Checks on the path only say what to report; the reader checks the opened file again
// (formats/file_io.h), so nothing swapped in between is trusted.
std::string resolve_model_yaml(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st)) {
    const fs::path yaml = fs::path(path) / "model.yaml";
    const fs::file_status yst = fs::status(yaml, ec);
    if (!fs::exists(yst)) {
      throw FormatError(path + ": no model.yaml in this folder (export one with `python3 -m kiln_export`)");
    }
    if (!fs::is_regular_file(yst)) {
      throw FormatError(yaml.string() + ": cannot read the model: it is " + kind_of(yst) + ", not a regular file");
    }
    return yaml.string();
  }
  if (!fs::exists(st)) throw FormatError(path + ": no such model folder or model.yaml file");
  if (!fs::is_regular_file(st)) {
    throw FormatError(path + ": cannot read the model: it is " + kind_of(st) + ", not a regular file");
  }
  return path;
}

std::string model_folder(const std::string& model_yaml) {
  const std::filesystem::path parent = std::filesystem::path(model_yaml).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

Graph load_graph(const std::string& path, const GraphBuildOptions& options) {
  const ModelSpec spec = read_model(resolve_model_yaml(path));
  const Manifest manifest = read_manifest(spec.manifest_path);
  return Graph::build(spec, manifest, options);
}

LoadedModel load_model(const std::string& path, const GraphBuildOptions& options) {
  const ModelSpec spec = read_model(resolve_model_yaml(path));
  TensorFile weights = read_tensor_file(spec.manifest_path);
  Graph graph = Graph::build(spec, weights.manifest, options);
  return LoadedModel{std::move(graph), std::move(weights)};
}

}  // namespace kiln
