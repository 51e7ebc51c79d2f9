// Small RAII file helpers shared by the kiln_formats readers and writer. Internal to kiln_formats.
// Every failure is a typed kiln error that starts with "<path>: ".
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace kiln::fileio {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// A file opened for reading with its size, taken from the open file (not from the path, which could
// be replaced between the check and the read).
struct InputFile {
  std::string path;
  FilePtr file;
  std::uint64_t size = 0;
};

// Opens a regular file for reading, non-blocking, and checks its type on the opened descriptor: a named
// pipe, a directory or a device is refused at once ("<path>: cannot read <what>: it is a named pipe, not
// a regular file") instead of blocking. `what` names it in messages ("manifest", "blob ...").
// Throws FormatError "<path>: cannot open <what>: <reason>".
InputFile open_for_reading(const std::string& path, const std::string& what);

// Reads exactly `n` bytes at the current position; FormatError if the file ends early or fails.
void read_exact(InputFile& f, void* dst, std::size_t n);

// Reads a whole text file after checking that it is at most `max_bytes` long (checked before any byte
// is read or any buffer allocated).
std::string read_text_file(const std::string& path, std::uint64_t max_bytes, const std::string& what);

// "a directory", "a named pipe", ... for a st_mode that is not a regular file.
std::string file_type_name(unsigned mode);

// The text of errno, thread-safe.
std::string errno_text(int err);

}  // namespace kiln::fileio
