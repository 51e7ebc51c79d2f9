#include "formats/file_io.h"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "base/errors.h"

namespace kiln::fileio {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

InputFile open_for_reading(const std::string& path, const std::string& what) {
  InputFile f;
  f.path = path;
  f.file.reset(std::fopen(path.c_str(), "rb"));
  if (!f.file) throw FormatError(path + ": cannot open " + what + ": " + errno_text(errno));
  struct stat st {};
  if (fstat(fileno(f.file.get()), &st) != 0)
    throw FormatError(path + ": cannot read the size of " + what + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw FormatError(path + ": cannot open " + what + ": not a regular file");
  f.size = static_cast<std::uint64_t>(st.st_size);
  return f;
}

void read_exact(InputFile& f, void* dst, std::size_t n) {
  const std::size_t got = std::fread(dst, 1, n, f.file.get());
  if (got == n) return;
  if (std::ferror(f.file.get())) throw FormatError(f.path + ": read failed: " + errno_text(errno));
  throw FormatError(f.path + ": file ended early: it was " + std::to_string(f.size) +
                    " bytes when opened (truncated while being read?)");
}

std::string read_text_file(const std::string& path, std::uint64_t max_bytes, const std::string& what) {
  InputFile f = open_for_reading(path, what);
  if (f.size > max_bytes) {
    throw FormatError(path + ": " + what + " is " + std::to_string(f.size) + " bytes, expected at most " +
                      std::to_string(max_bytes) + " (" + std::to_string(max_bytes >> 20) + " MiB)");
  }
  std::string text(static_cast<std::size_t>(f.size), '\0');
  read_exact(f, text.data(), text.size());
  return text;
}

}  // namespace kiln::fileio
