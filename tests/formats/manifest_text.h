// A valid manifest, line by line, that each negative test breaks in exactly one place.
// Lines: 1 magic, 2 blob, 3 blob-size, 4 alignment, 5 crc32, 6 tensors, 7.. tensor lines.
#pragma once

#include <string>
#include <vector>

#include "formats/manifest.h"
#include "test_util.h"

namespace kiln::test {

struct ManifestText {
  std::string magic = "kiln-manifest 1";
  std::string blob = "blob weights.bin";
  std::string blob_size = "blob-size 3840";
  std::string alignment = "alignment 256";
  std::string crc = "crc32 0c4f1a9e";
  std::string count = "tensors 2";
  std::vector<std::string> tensors = {"enc.0.weight f32 0 3456 [32,3,3,3]", "enc.0.bias f32 3584 128 [32]"};

  std::string str() const {
    std::string out = magic + "\n" + blob + "\n" + blob_size + "\n" + alignment + "\n" + crc + "\n" + count + "\n";
    for (const std::string& t : tensors) out += t + "\n";
    return out;
  }
};

// The FormatError message of parsing `text` as "w.manifest".
inline std::string manifest_error(const std::string& text) {
  return error_of([&] { parse_manifest(text, "w.manifest"); });
}
inline std::string manifest_error(const ManifestText& t) { return manifest_error(t.str()); }

}  // namespace kiln::test
