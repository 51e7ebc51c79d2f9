// The host memory limit: the most kiln allocates for one buffer whose size comes from a file or a
// caller (a weight blob, a tensor file, an input, the CPU activation arena). A file that declares more
// is an error naming the file, the size and the limit, raised before anything is allocated, instead of
// std::bad_alloc (or, with overcommit, the OOM killer) naming nothing.
//
// Default: the machine's physical memory. The environment variable KILN_HOST_MEMORY_LIMIT_MB (read
// once, at the first check) or set_host_memory_limit() lowers or raises it. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

std::uint64_t host_memory_limit();
// `bytes` 0 restores the default.
void set_host_memory_limit(std::uint64_t bytes);

// Throws FormatError "<where>: <what> needs <bytes> bytes (<GiB>), above the host memory limit of
// <limit> bytes (<GiB>; KILN_HOST_MEMORY_LIMIT_MB sets it)" when bytes > host_memory_limit().
void check_host_allocation(const std::string& where, const std::string& what, std::uint64_t bytes);

}  // namespace kiln
