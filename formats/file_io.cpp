#include "formats/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "base/errors.h"
#include "base/fault_injection.h"

namespace kiln::fileio {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string file_type_name(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Opened non-blocking, so that a named pipe or a device cannot block the open itself, and checked on
// the descriptor, so that a file swapped in after a check on the path cannot slip through.
InputFile open_for_reading(const std::string& path, const std::string& what) {
  InputFile f;
  f.path = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw FormatError(path + ": cannot open " + what + ": " + errno_text(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw FormatError(path + ": cannot read the size of " + what + ": " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError(path + ": cannot read " + what + ": it is " + file_type_name(st.st_mode) +
                      ", not a regular file");
  }
  // Regular files never block; clear the flag so stdio sees an ordinary descriptor.
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  f.file.reset(fdopen(fd, "rb"));
  if (!f.file) {
    const int err = errno;
    ::close(fd);
    throw FormatError(path + ": cannot open " + what + ": " + errno_text(err));
  }
  f.size = static_cast<std::uint64_t>(st.st_size);
  return f;
}

void read_exact(InputFile& f, void* dst, std::size_t n) {
  if (inject_fault(FaultSite::FileRead)) throw FormatError(f.path + ": read failed: injected fault");
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
