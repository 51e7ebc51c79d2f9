// libFuzzer entry points for the two text readers (built only with clang, see CMakeLists.txt).
// Any exception other than FormatError, any crash and any sanitizer report is a bug.
//   kiln_fuzz_manifest -max_len=8192 corpus/
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/errors.h"
#include "formats/manifest.h"
#include "formats/model_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
#if defined(KILN_FUZZ_MODEL)
  try {
    kiln::parse_model(text, "fuzz/model.yaml");
  } catch (const kiln::FormatError&) {
  }
#else
  try {
    kiln::parse_manifest(text, "fuzz/w.manifest");
  } catch (const kiln::FormatError&) {
  }
#endif
  return 0;
}
