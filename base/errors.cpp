#include "base/errors.h"

namespace kiln {

namespace {
std::string describe(const std::string& library, int status, const std::string& status_text, const std::string& call,
                     const std::string& where, const std::string& layer) {
  std::string msg = library + " error " + std::to_string(status) + " (" + status_text + ")";
  if (!layer.empty()) msg += " in layer " + layer;
  msg += ": " + call + " at " + where;
  return msg;
}
}  // namespace

LibraryError::LibraryError(const std::string& library, int status, const std::string& status_text,
                           const std::string& call, const std::string& where, const std::string& layer)
    : Error(describe(library, status, status_text, call, where, layer)), status_(status), call_(call), layer_(layer) {}

}  // namespace kiln
