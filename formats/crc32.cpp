// CRC-32 (IEEE 802.3, the checksum of zip and zlib.crc32) through zlib: its braided implementation reads
// the ~100 MB blobs checked at every load 1.7-2x faster than the slicing-by-8 loop kiln had
// (BM_Crc32 in benchmarks/host_load_bench.cpp; benchmarks/NOTES.md), and its result is the one the exporter's zlib.crc32 writes.
#include <zlib.h>

#include <cstdint>

#include "formats/manifest.h"

namespace kiln {

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size) {
  if (size == 0) return crc;
  return static_cast<std::uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), size));
}

}  // namespace kiln
