// Reader and writer of `*.manifest` + `*.bin` tensor files (weights and golden tensors).
// The byte-level specification is formats/README.md; every rule there is enforced here.
//
// Errors: every rejection throws kiln::FormatError whose message starts with "<path>:<line>: " (or
// "<path>: " for whole-file problems) and names the field, what was expected and what was found.
// Thread-safety: free functions with no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/api.h"
#include "base/shape.h"
#include "formats/dtype.h"

namespace kiln {

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::uint64_t offset = 0;  // bytes from the start of the blob
  std::uint64_t nbytes = 0;  // product(shape) * dtype_size(dtype)
  Shape shape;
  int line = 0;  // line in the manifest, for messages
};

struct Manifest {
  std::string path;       // the manifest file as given
  std::string blob_path;  // the blob, resolved against the manifest's folder
  std::uint64_t blob_size = 0;
  std::uint64_t alignment = 256;
  std::uint32_t crc32 = 0;
  std::vector<TensorEntry> tensors;  // in file order == ascending offset

  // The entry named `name` (the first one, should `tensors` hold a name twice); nullptr when absent.
  // Constant time through the name index that parse_manifest builds. A Manifest whose `tensors` were
  // filled by hand is searched linearly until reindex() is called (the index is used only while it
  // covers exactly tensors.size() entries); after renaming entries in place, call reindex().
  const TensorEntry* find(std::string_view name) const;

  // Rebuilds the name index from `tensors` (linear time; duplicates are allowed, find returns the first).
  void reindex();

 private:
  friend Manifest parse_manifest(std::string_view text, const std::string& path);
  // The name index: open addressing with linear probing, at most half full, over positions in
  // `tensors`. Positions and hashes only, no pointers or views, so a copied or moved Manifest keeps a
  // valid index; find compares the name itself, so a hash collision or an entry renamed since is never
  // returned for the wrong name.
  struct IndexSlot {
    std::uint32_t tag = 0;       // high bits of the name's hash
    std::uint32_t position = 0;  // position in `tensors` + 1; 0: empty
  };
  std::vector<IndexSlot> index_;  // size: 0 or a power of two
  std::size_t indexed_ = 0;       // tensors[0, indexed_) are in index_
  const TensorEntry* find_indexed(std::string_view name, std::size_t hash) const;
  void index_reserve(std::size_t count);  // room for `count` entries (rebuilt when it grows)
  void index_place(std::size_t hash, std::size_t position);
  void index_next(std::size_t hash);  // adds tensors[indexed_], whose name has `hash`
};

// Parses manifest text; `path` is used for messages and to resolve the blob name.
KILN_API Manifest parse_manifest(std::string_view text, const std::string& path);

// Reads and parses a manifest file (at most 256 MiB).
KILN_API Manifest read_manifest(const std::string& path);

// Reads the blob named by `m` into `dst`, which must hold m.blob_size bytes (host memory: pageable or
// pinned). Verifies the file's size, the CRC-32 and that padding bytes are zero before returning.
KILN_API void read_blob_into(const Manifest& m, void* dst, std::uint64_t dst_size);

// CRC-32 (IEEE 802.3, as zlib.crc32), continuing from `crc` (0 to start).
KILN_API std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size);

// A manifest with its blob in host memory.
struct TensorFile {
  Manifest manifest;
  std::vector<std::uint8_t> blob;

  // The bytes of tensor `e` (which must belong to this file).
  const std::uint8_t* data(const TensorEntry& e) const { return blob.data() + e.offset; }
  // The tensor as float32 (f16 converted); throws FormatError if `name` is absent.
  std::vector<float> to_float(std::string_view name) const;
};

KILN_API TensorFile read_tensor_file(const std::string& manifest_path);

// One tensor to write. `data` holds product(shape) elements of `dtype`.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  const void* data = nullptr;
};

// Writes `<dir>/<stem>.manifest` and `<dir>/<stem>.bin` (alignment 256), creating nothing else.
// Throws FormatError on invalid names or shapes, kiln::Error on I/O failure.
KILN_API void write_tensor_file(const std::string& dir, const std::string& stem, const std::vector<TensorToWrite>& tensors);

}  // namespace kiln
