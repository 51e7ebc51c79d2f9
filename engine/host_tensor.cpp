#include "engine/host_tensor.h"

#include <filesystem>

#include "base/errors.h"

namespace kiln {

std::vector<HostTensor> read_host_tensors(const std::string& manifest_path) {
  const TensorFile file = read_tensor_file(manifest_path);
  std::vector<HostTensor> out;
  out.reserve(file.manifest.tensors.size());
  // to_float finds each name through the manifest's index: linear in the number of tensors overall.
  for (const TensorEntry& e : file.manifest.tensors) out.push_back(HostTensor{e.name, e.shape, file.to_float(e.name)});
  return out;
}

void write_host_tensors(const std::string& path, const std::vector<HostTensor>& tensors) {
  const std::filesystem::path p(path);
  if (p.extension() != ".manifest") {
    throw UsageError(path + ": tensor files are written as NAME.manifest (+ NAME.bin beside it)");
  }
  std::vector<TensorToWrite> items;
  for (const HostTensor& t : tensors) {
    if (t.data.size() != element_count(t.shape)) {
      throw UsageError("tensor '" + t.name + "' holds " + std::to_string(t.data.size()) + " values for shape " +
                       shape_to_string(t.shape));
    }
    items.push_back(TensorToWrite{t.name, DType::F32, t.shape, t.data.data()});
  }
  const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create folder: " + ec.message());
  write_tensor_file(dir, p.stem().string(), items);
}

}  // namespace kiln
