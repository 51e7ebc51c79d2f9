// Reading manifests and blobs from disk. The blob's size is compared with the manifest before any
// buffer is allocated, and its CRC-32 and padding are verified before the caller sees a byte.
#include <algorithm>
#include <cstring>

#include "base/errors.h"
#include "base/memory_limit.h"
#include "formats/file_io.h"
#include "formats/manifest.h"
#include "formats/rules.h"

namespace kiln {

namespace {
// Large enough that the per-call overhead vanishes, small enough to stay in cache while the CRC runs.
constexpr std::size_t kChunkBytes = 4u << 20;

std::string hex8(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 15u];
  return s;
}

fileio::InputFile open_blob(const Manifest& m) {
  fileio::InputFile f = fileio::open_for_reading(m.blob_path, "the blob named in " + m.path);
  if (f.size != m.blob_size) {
    throw FormatError(m.blob_path + ": blob is " + std::to_string(f.size) + " bytes, expected the blob-size " +
                      std::to_string(m.blob_size) + " from " + m.path);
  }
  return f;
}

void check_zero(const Manifest& m, const std::uint8_t* blob, std::uint64_t begin, std::uint64_t end,
                const std::string& after) {
  for (std::uint64_t i = begin; i < end; ++i) {
    if (blob[i] != 0) {
      throw FormatError(m.blob_path + ": padding byte at offset " + std::to_string(i) + " (" + after + ") is " +
                        std::to_string(blob[i]) + ", expected 0");
    }
  }
}

// Reads the whole blob into dst (m.blob_size bytes) and verifies CRC-32 and padding.
void read_and_verify(const Manifest& m, fileio::InputFile& f, std::uint8_t* dst) {
  std::uint32_t crc = 0;
  for (std::uint64_t done = 0; done < m.blob_size;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, m.blob_size - done));
    fileio::read_exact(f, dst + done, n);
    crc = crc32_update(crc, dst + done, n);
    done += n;
  }
  if (crc != m.crc32) {
    throw FormatError(m.blob_path + ": CRC-32 is " + hex8(crc) + ", expected " + hex8(m.crc32) + " from " + m.path +
                      " (the blob is corrupt or belongs to another manifest)");
  }
  std::uint64_t end = 0;
  std::string after = "before the first tensor";
  for (const TensorEntry& e : m.tensors) {
    check_zero(m, dst, end, e.offset, after);
    end = e.offset + e.nbytes;
    after = "after tensor '" + e.name + "'";
  }
  check_zero(m, dst, end, m.blob_size, after);
}
}  // namespace

Manifest read_manifest(const std::string& path) {
  return parse_manifest(fileio::read_text_file(path, rules::kMaxManifestBytes, "manifest"), path);
}

void read_blob_into(const Manifest& m, void* dst, std::uint64_t dst_size) {
  if (dst_size != m.blob_size) {
    throw UsageError("read_blob_into: the destination holds " + std::to_string(dst_size) + " bytes, but " + m.path +
                     " has blob-size " + std::to_string(m.blob_size));
  }
  if (dst == nullptr && dst_size != 0) throw UsageError("read_blob_into: the destination is null");
  fileio::InputFile f = open_blob(m);
  read_and_verify(m, f, static_cast<std::uint8_t*>(dst));
}

TensorFile read_tensor_file(const std::string& manifest_path) {
  TensorFile tf;
  tf.manifest = read_manifest(manifest_path);
  fileio::InputFile f = open_blob(tf.manifest);  // size checked before the allocation below
  check_host_allocation(tf.manifest.blob_path, "the blob", tf.manifest.blob_size);
  tf.blob.resize(static_cast<std::size_t>(tf.manifest.blob_size));
  read_and_verify(tf.manifest, f, tf.blob.data());
  return tf;
}

std::vector<float> TensorFile::to_float(std::string_view name) const {
  const TensorEntry* e = manifest.find(name);
  if (e == nullptr) throw FormatError(manifest.path + ": no tensor named " + rules::quote(name));
  const std::uint64_t n = element_count(e->shape);
  if (e->offset > blob.size() || e->nbytes > blob.size() - e->offset || e->nbytes != n * dtype_size(e->dtype))
    throw UsageError("TensorFile::to_float: tensor '" + e->name + "' does not fit the blob held in memory");
  check_host_allocation(manifest.path, "tensor " + rules::quote(e->name) + " as float32", n * sizeof(float));
  std::vector<float> out(static_cast<std::size_t>(n));
  const std::uint8_t* src = data(*e);
  if (e->dtype == DType::F32) {
    if (n != 0) std::memcpy(out.data(), src, static_cast<std::size_t>(e->nbytes));
  } else {
    halves_to_floats(src, out.size(), out.data());
  }
  return out;
}

}  // namespace kiln
