#include "engine/model_dir.h"

#include <filesystem>

#include "base/errors.h"

namespace kiln {

std::string resolve_model_yaml(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path yaml = fs::path(path) / "model.yaml";
    if (!fs::is_regular_file(yaml, ec)) {
      throw FormatError(path + ": no model.yaml in this folder (export one with `python3 -m kiln_export`)");
    }
    return yaml.string();
  }
  if (!fs::is_regular_file(path, ec)) throw FormatError(path + ": no such model folder or model.yaml file");
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
