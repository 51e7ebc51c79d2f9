// Locating and loading a kiln model folder (model.yaml + the manifest it names + the blob), and the
// golden tensors the exporter writes beside it.
#pragma once

#include <string>

#include "base/api.h"
#include "engine/graph.h"
#include "formats/manifest.h"

namespace kiln {

// `path` is a model folder or a model.yaml file; returns the model.yaml path. Throws FormatError when
// neither exists.
KILN_API std::string resolve_model_yaml(const std::string& path);

// The folder holding model.yaml.
KILN_API std::string model_folder(const std::string& model_yaml);

// A model loaded for running: the graph and the weights in host memory.
struct LoadedModel {
  Graph graph;
  TensorFile weights;
};

// Reads model.yaml, the manifest and the blob (checksummed), and builds the graph.
KILN_API LoadedModel load_model(const std::string& path, const GraphBuildOptions& options = {});

// Reads model.yaml and the manifest only (no blob): enough to inspect the network and its plan.
KILN_API Graph load_graph(const std::string& path, const GraphBuildOptions& options = {});

}  // namespace kiln
