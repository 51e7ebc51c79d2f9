// write_tensor_file: writes a manifest + blob pair that parse_manifest/read_blob_into accept, with the
// layout of formats/README.md (alignment 256, zero padding, CRC-32 of the whole blob).
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "base/errors.h"
#include "base/checked_math.h"
#include "formats/file_io.h"
#include "formats/manifest.h"
#include "formats/rules.h"

namespace kiln {

namespace {
using rules::quote;

class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {
    file_.reset(std::fopen(path_.c_str(), "wb"));
    if (!file_) throw Error(path_ + ": cannot create: " + fileio::errno_text(errno));
  }
  void write(const void* data, std::size_t n) {
    if (n != 0 && std::fwrite(data, 1, n, file_.get()) != n)
      throw Error(path_ + ": write failed: " + fileio::errno_text(errno));
  }
  // Flushes and closes; a failing close means the data may not be on disk.
  void close() {
    if (std::fclose(file_.release()) != 0) throw Error(path_ + ": write failed: " + fileio::errno_text(errno));
  }

 private:
  std::string path_;
  fileio::FilePtr file_;
};

struct Planned {
  const TensorToWrite* tensor;
  std::uint64_t offset;
  std::uint64_t nbytes;
};

// Validates the tensors and assigns offsets; returns the blob size through `blob_size`.
std::vector<Planned> plan(const std::vector<TensorToWrite>& tensors, const std::string& manifest_path,
                          std::uint64_t& blob_size) {
  if (tensors.size() > rules::kMaxTensors) {
    throw FormatError(manifest_path + ": " + std::to_string(tensors.size()) + " tensors, expected at most " +
                      std::to_string(rules::kMaxTensors));
  }
  std::vector<Planned> out;
  out.reserve(tensors.size());
  std::unordered_set<std::string> names;
  std::uint64_t end = 0;
  for (const TensorToWrite& t : tensors) {
    const std::string problem = rules::check_name(t.name);
    if (!problem.empty()) throw FormatError(manifest_path + ": tensor name " + quote(t.name) + " " + problem);
    const std::string field = manifest_path + ": tensor '" + t.name + "'";
    if (!names.insert(t.name).second) throw FormatError(field + ": the name is used twice");
    if (t.shape.size() > rules::kMaxRank) {
      throw FormatError(field + ": shape " + shape_to_string(t.shape) + " has " + std::to_string(t.shape.size()) +
                        " dimensions, expected at most " + std::to_string(rules::kMaxRank));
    }
    for (std::int64_t d : t.shape) {
      if (d < 1 || static_cast<std::uint64_t>(d) > rules::kMaxTensorDim)
        throw FormatError(field + ": shape " + shape_to_string(t.shape) + ": expected every 1 <= d <= 2^40");
    }
    if (t.data == nullptr) throw UsageError(field + ": data is null");
    std::optional<std::uint64_t> nbytes = dtype_size(t.dtype);
    for (std::int64_t d : t.shape) nbytes = nbytes ? checked_mul(*nbytes, static_cast<std::uint64_t>(d)) : nbytes;
    const auto offset = checked_align_up(end, rules::kWriterAlignment);
    const auto next_end = offset && nbytes ? checked_add(*offset, *nbytes) : std::nullopt;
    if (!next_end) throw FormatError(field + ": the blob would be larger than 2^64 bytes");
    out.push_back({&t, *offset, *nbytes});
    end = *next_end;
  }
  const auto size = checked_align_up(end, rules::kWriterAlignment);
  if (!size) throw FormatError(manifest_path + ": the blob would be larger than 2^64 bytes");
  blob_size = *size;
  return out;
}

std::uint32_t write_blob(const std::string& path, const std::vector<Planned>& planned, std::uint64_t blob_size) {
  static const std::uint8_t zeros[rules::kWriterAlignment] = {};
  OutputFile f(path);
  std::uint32_t crc = 0;
  std::uint64_t pos = 0;
  auto pad_to = [&](std::uint64_t target) {
    const auto n = static_cast<std::size_t>(target - pos);  // < alignment by construction
    f.write(zeros, n);
    crc = crc32_update(crc, zeros, n);
    pos = target;
  };
  for (const Planned& p : planned) {
    pad_to(p.offset);
    f.write(p.tensor->data, static_cast<std::size_t>(p.nbytes));
    crc = crc32_update(crc, p.tensor->data, static_cast<std::size_t>(p.nbytes));
    pos += p.nbytes;
  }
  pad_to(blob_size);
  f.close();
  return crc;
}

std::string manifest_text(const std::string& blob_name, const std::vector<Planned>& planned, std::uint64_t blob_size,
                          std::uint32_t crc) {
  char crc_hex[9];
  std::snprintf(crc_hex, sizeof crc_hex, "%08x", static_cast<unsigned>(crc));
  std::string text = "kiln-manifest " + std::to_string(rules::kManifestVersion) + "\nblob " + blob_name +
                     "\nblob-size " + std::to_string(blob_size) + "\nalignment " +
                     std::to_string(rules::kWriterAlignment) + "\ncrc32 " + crc_hex + "\ntensors " +
                     std::to_string(planned.size()) + "\n";
  for (const Planned& p : planned) {
    text += p.tensor->name + " " + dtype_name(p.tensor->dtype) + " " + std::to_string(p.offset) + " " +
            std::to_string(p.nbytes) + " " + shape_to_string(p.tensor->shape) + "\n";
  }
  return text;
}
}  // namespace

void write_tensor_file(const std::string& dir, const std::string& stem, const std::vector<TensorToWrite>& tensors) {
  const std::string manifest_name = stem + ".manifest";
  const std::string blob_name = stem + ".bin";
  const std::string manifest_path = (std::filesystem::path(dir) / manifest_name).string();
  const std::string blob_path = (std::filesystem::path(dir) / blob_name).string();
  std::string problem = stem.empty() ? "is empty" : rules::check_file_name(manifest_name);
  if (!problem.empty()) throw FormatError(manifest_path + ": file stem " + quote(stem) + " " + problem);

  std::uint64_t blob_size = 0;
  const std::vector<Planned> planned = plan(tensors, manifest_path, blob_size);
  try {
    const std::uint32_t crc = write_blob(blob_path, planned, blob_size);
    const std::string text = manifest_text(blob_name, planned, blob_size, crc);
    OutputFile m(manifest_path);
    m.write(text.data(), text.size());
    m.close();
  } catch (const Error&) {
    // Leave no half-written pair behind that a later run could mistake for a good one.
    std::error_code ignored;
    std::filesystem::remove(blob_path, ignored);
    std::filesystem::remove(manifest_path, ignored);
    throw;
  }
}

}  // namespace kiln
