// fuzz_manifest: the fuzzer's bytes as the text of a weights.manifest, parsed by kiln::parse_manifest
// (formats/manifest.h) in memory.
// Asserted: the reader returns a Manifest or throws a kiln::Error (with a bounded message); an accepted
// Manifest keeps every promise of formats/README.md (check_manifest in fuzz_common.h: header ranges,
// unique names, shapes, nbytes = shape x dtype, exact aligned tiling of the blob). Anything else (another
// exception, a crash, a sanitizer report, a leak, an allocation over -rss_limit_mb) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kiln_fuzz::kMaxInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    kiln_fuzz::check_manifest(kiln::parse_manifest(text, "fuzz/weights.manifest"));
    kiln_fuzz::note("accepted");
  } catch (const kiln::Error& e) {
    return kiln_fuzz::expected_rejection(e);
  }
  return 0;
}
