// Helpers shared by kiln's libFuzzer targets (tests/fuzz/*.cpp): splitting one input into several
// files, a private temporary folder, making a fuzzed blob agree with its manifest, and the checks that
// turn a broken promise into a crash libFuzzer records.
//
// Conventions of the multi-file targets (fuzz_model_folder, fuzz_tensor_file):
//   - byte 0 is a flags byte (seeds mostly use '3': both fixes below, so they stay readable text):
//       bit 0 (1): resize the blob part to the manifest's declared blob-size (when at most kMaxBlob),
//                  zero-extended, with every padding byte zeroed;
//       bit 1 (2): rewrite the manifest's `crc32` value to the CRC-32 of the blob as written;
//       (fuzz_model_folder also reads bits 2-3 as the max batch and bit 6 as "keep layer outputs");
//     without them the fuzzer's bytes are written exactly as given (so the size, padding and checksum
//     checks are fuzzed too); with them the fuzzer gets past those checks to what follows.
//   - the rest is the files' contents separated by kSeparator ("\n@@@@\n"); missing parts are empty.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/checked_math.h"
#include "base/errors.h"
#include "engine/graph.h"
#include "engine/planner.h"
#include "formats/manifest.h"
#include "formats/model_spec.h"

namespace kiln_fuzz {

constexpr std::size_t kMaxInput = 64 * 1024;   // larger inputs are skipped
constexpr std::uint64_t kMaxBlob = 64 * 1024;  // largest blob the harness generates
constexpr std::string_view kSeparator = "\n@@@@\n";
constexpr unsigned kFixBlob = 1, kFixCrc = 2;

// A finding: print and abort, so libFuzzer saves the input.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "kiln fuzz: broken invariant: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// The message is built only when the check fails (the targets check a lot per input).
#define FUZZ_CHECK(ok, what)            \
  do {                                  \
    if (!(ok)) ::kiln_fuzz::fail(what); \
  } while (0)

// With KILN_FUZZ_VERBOSE=1 in the environment the targets say what happened to each input (to see how
// far a seed gets: `KILN_FUZZ_VERBOSE=1 build-fuzz/fuzz_model_folder tests/fuzz/seeds/fuzz_model_folder/*`).
inline void note(const std::string& what) {
  static const bool verbose = [] {
    const char* v = std::getenv("KILN_FUZZ_VERBOSE");
    return v && *v && std::string(v) != "0";
  }();
  if (verbose) std::fprintf(stderr, "kiln fuzz: %s\n", what.c_str());
}

// kiln's rejections are expected; they must still be short (formats/rules.h: quote() and
// join_bounded() keep anything taken from a file short, so messages stay one line of reasonable size).
inline int expected_rejection(const kiln::Error& e) {
  const std::size_t n = std::strlen(e.what());
  FUZZ_CHECK(n > 0 && n <= 16384, "kiln::Error message of " + std::to_string(n) + " bytes");
  note(std::string("rejected: ") + e.what());
  return 0;
}

// What formats/README.md promises about any manifest the reader accepts: the header's ranges, names,
// shapes, byte counts, and that the tensors tile the blob exactly (ascending, aligned, no overlap, no
// gap beyond alignment padding, blob-size = the last end rounded up). Computed independently of the
// reader, with checked arithmetic.
inline void check_manifest(const kiln::Manifest& m) {
  const std::uint64_t a = m.alignment;
  FUZZ_CHECK(a >= 16 && a <= 1048576 && (a & (a - 1)) == 0, "accepted alignment " + std::to_string(a));
  FUZZ_CHECK(m.tensors.size() <= 1000000, "accepted " + std::to_string(m.tensors.size()) + " tensors");
  const std::string blob_name = std::filesystem::path(m.blob_path).filename().string();
  FUZZ_CHECK(!blob_name.empty() && blob_name != "." && blob_name != "..", "accepted blob path '" + m.blob_path + "'");
  std::uint64_t end = 0;
  for (std::size_t i = 0; i < m.tensors.size(); ++i) {
    const kiln::TensorEntry& e = m.tensors[i];
    auto what = [&] { return "tensor " + std::to_string(i) + " '" + e.name + "': "; };
    FUZZ_CHECK(!e.name.empty() && e.name.size() <= 256,
               what() + "accepted a name of " + std::to_string(e.name.size()) + " chars");
    FUZZ_CHECK(m.find(e.name) == &e, what() + "name not unique, or find() does not return it");
    FUZZ_CHECK(e.shape.size() <= 8, what() + "accepted rank " + std::to_string(e.shape.size()));
    std::optional<std::uint64_t> bytes = kiln::dtype_size(e.dtype);
    for (const std::int64_t d : e.shape) {
      FUZZ_CHECK(d >= 1 && d <= (std::int64_t{1} << 40), what() + "accepted dimension " + std::to_string(d));
      if (bytes) bytes = kiln::checked_mul(*bytes, static_cast<std::uint64_t>(d));
    }
    FUZZ_CHECK(bytes.has_value() && *bytes == e.nbytes,
               what() + "nbytes " + std::to_string(e.nbytes) + " != shape x dtype");
    const std::optional<std::uint64_t> start =
        i == 0 ? std::optional<std::uint64_t>(0) : kiln::checked_align_up(end, a);
    FUZZ_CHECK(start.has_value() && e.offset == *start,
               what() + "offset " + std::to_string(e.offset) + " does not follow the previous tensor");
    const std::optional<std::uint64_t> next = kiln::checked_add(e.offset, e.nbytes);
    FUZZ_CHECK(next.has_value(), what() + "offset + nbytes overflows");
    end = *next;
  }
  const std::optional<std::uint64_t> size =
      m.tensors.empty() ? std::optional<std::uint64_t>(0) : kiln::checked_align_up(end, a);
  FUZZ_CHECK(size.has_value() && *size == m.blob_size,
             "blob-size " + std::to_string(m.blob_size) + " is not the aligned end of the last tensor");
}

// What the model reader promises about a ModelSpec it accepts (formats/README.md, "model.yaml"): counts
// in range, input shapes valid, names unique, every layer input and every output defined before use.
inline void check_model_spec(const kiln::ModelSpec& spec) {
  FUZZ_CHECK(!spec.inputs.empty() && spec.inputs.size() <= 64,
             "accepted " + std::to_string(spec.inputs.size()) + " inputs");
  FUZZ_CHECK(!spec.layers.empty() && spec.layers.size() <= 100000,
             "accepted " + std::to_string(spec.layers.size()) + " layers");
  FUZZ_CHECK(!spec.outputs.empty() && spec.outputs.size() <= 64,
             "accepted " + std::to_string(spec.outputs.size()) + " outputs");
  FUZZ_CHECK(!spec.manifest_path.empty(), "accepted an empty manifest path");
  std::set<std::string> defined;
  auto is_defined = [&](const std::string& n) { return defined.count(n) != 0; };
  for (const kiln::InputSpec& in : spec.inputs) {
    FUZZ_CHECK(!in.name.empty() && !is_defined(in.name), "input name '" + in.name + "' empty or not unique");
    FUZZ_CHECK(!in.shape.empty() && in.shape.size() <= 8,
               "input '" + in.name + "' accepted rank " + std::to_string(in.shape.size()));
    for (const std::int64_t d : in.shape)
      FUZZ_CHECK(d >= 1 && d <= (std::int64_t{1} << 31),
                 "input '" + in.name + "' accepted dimension " + std::to_string(d));
    FUZZ_CHECK(in.dtype == kiln::DType::F32, "input '" + in.name + "' accepted a dtype other than f32");
    defined.insert(in.name);
  }
  for (const kiln::LayerSpec& l : spec.layers) {
    for (const std::string& i : l.inputs)
      FUZZ_CHECK(is_defined(i), "layer '" + l.name() + "' reads '" + i + "' before it is defined");
    FUZZ_CHECK(!l.name().empty() && !is_defined(l.name()), "layer name '" + l.name() + "' empty or not unique");
    defined.insert(l.name());
  }
  for (const std::string& o : spec.outputs) {
    FUZZ_CHECK(is_defined(o), "output '" + o + "' is not defined");
    FUZZ_CHECK(spec.output_lines.count(o) == 1, "output '" + o + "' has no line");
  }
}

// What Graph::build promises: one tensor per input and layer, every shape at the max batch with the
// byte count it implies, and a memory plan in which no two tensors alive at once overlap, all inside
// the arena and aligned.
inline void check_graph(const kiln::Graph& g, std::uint64_t alignment) {
  const std::size_t n_in = g.spec().inputs.size(), n_layers = g.spec().layers.size();
  FUZZ_CHECK(g.layers().size() == n_layers, "graph has " + std::to_string(g.layers().size()) + " layers for " +
                                                std::to_string(n_layers) + " in the spec");
  FUZZ_CHECK(g.tensors().size() == n_in + n_layers, "graph has " + std::to_string(g.tensors().size()) + " tensors");
  FUZZ_CHECK(g.output_tensors().size() == g.spec().outputs.size(), "graph has the wrong number of outputs");
  FUZZ_CHECK(g.max_batch() >= 1, "max batch " + std::to_string(g.max_batch()));
  for (const kiln::GraphTensor& t : g.tensors()) {
    FUZZ_CHECK(!t.shape.empty() && t.shape[0] == g.max_batch(),
               "tensor '" + t.name + "' has shape " + kiln::shape_to_string(t.shape) + " at max batch");
    std::optional<std::uint64_t> bytes = sizeof(float);
    for (const std::int64_t d : t.shape) {
      FUZZ_CHECK(d >= 1, "tensor '" + t.name + "' has dimension " + std::to_string(d));
      if (bytes) bytes = kiln::checked_mul(*bytes, static_cast<std::uint64_t>(d));
    }
    FUZZ_CHECK(bytes.has_value() && *bytes == t.bytes, "tensor '" + t.name + "' bytes " + std::to_string(t.bytes));
  }
  const kiln::MemoryPlan& plan = g.plan();
  const std::vector<kiln::PlanTensor>& pt = g.plan_tensors();
  FUZZ_CHECK(pt.size() == g.tensors().size() && plan.offsets.size() == pt.size(), "plan size differs from the tensors");
  FUZZ_CHECK(kiln::plan_is_valid(pt, plan), "plan_is_valid() is false for the plan Graph::build made");
  for (std::size_t i = 0; i < pt.size(); ++i) {
    if (pt[i].alias_of >= 0) continue;
    const std::optional<std::uint64_t> end = kiln::checked_add(plan.offsets[i], pt[i].bytes);
    FUZZ_CHECK(end.has_value() && *end <= plan.arena_bytes && plan.offsets[i] % alignment == 0,
               "tensor " + std::to_string(i) + " at " + std::to_string(plan.offsets[i]) + " (+" +
                   std::to_string(pt[i].bytes) + ") outside the arena of " + std::to_string(plan.arena_bytes) +
                   " or unaligned");
  }
}

// `text` split at each kSeparator into at most `parts` pieces (the last keeps any later separators);
// always returns `parts` strings.
inline std::vector<std::string> split(std::string_view text, std::size_t parts) {
  std::vector<std::string> out;
  while (out.size() + 1 < parts) {
    const std::size_t at = text.find(kSeparator);
    if (at == std::string_view::npos) break;
    out.emplace_back(text.substr(0, at));
    text.remove_prefix(at + kSeparator.size());
  }
  out.emplace_back(text);
  out.resize(parts);
  return out;
}

// A private folder under $TMPDIR (or /tmp), emptied by clear() and removed at exit.
class TempDir {
 public:
  explicit TempDir(const char* tag) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/kiln-" + tag + "-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) fail("cannot create a temporary folder from " + templ);
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  void clear() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path_, ec))
      std::filesystem::remove_all(entry.path(), ec);
  }

  void write(const std::string& name, std::string_view bytes) const {
    std::ofstream f(file(name), std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) fail("cannot write " + file(name));
  }

 private:
  std::string path_;
};

// CRC-32 of `bytes` as 8 lowercase hex digits.
inline std::string crc_hex(std::string_view bytes) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(kiln::crc32_update(0, bytes.data(), bytes.size())));
  return buf;
}

// `manifest` with the value of its first `crc32` line replaced by `hex` (unchanged when there is none).
inline std::string with_crc(std::string manifest, const std::string& hex) {
  for (std::size_t pos = 0; pos < manifest.size();) {
    std::size_t end = manifest.find('\n', pos);
    if (end == std::string::npos) end = manifest.size();
    const std::size_t key = manifest.find_first_not_of(" \t", pos);
    if (key < end && manifest.compare(key, 5, "crc32") == 0) {
      const std::size_t value = manifest.find_first_not_of(" \t", key + 5);
      if (value > key + 5 && value < end) {
        std::size_t value_end = manifest.find_first_of(" \t\r\n", value);
        if (value_end == std::string::npos) value_end = manifest.size();
        return manifest.replace(value, value_end - value, hex);
      }
    }
    pos = end + 1;
  }
  return manifest;
}

// Writes a tensor-file pair into `dir`: the manifest as `manifest_name`, the blob under the name the
// manifest declares (nothing when the manifest does not parse, or names `manifest_name` or one of
// `reserved`), applying the kFixBlob / kFixCrc flags.
inline void write_tensor_pair(const TempDir& dir, const std::string& manifest_name, std::string manifest,
                              std::string blob, unsigned flags, const std::vector<std::string>& reserved = {}) {
  std::string blob_name;
  try {
    const kiln::Manifest m = kiln::parse_manifest(manifest, dir.file(manifest_name));
    blob_name = std::filesystem::path(m.blob_path).filename().string();
    if ((flags & kFixBlob) && m.blob_size <= kMaxBlob) {
      std::string fixed(static_cast<std::size_t>(m.blob_size), '\0');
      for (const kiln::TensorEntry& e : m.tensors) {  // the tensors tile the blob: copy only their bytes
        if (e.offset >= blob.size()) break;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(e.nbytes, blob.size() - e.offset));
        std::memcpy(&fixed[static_cast<std::size_t>(e.offset)], blob.data() + e.offset, n);
      }
      blob = std::move(fixed);
    }
  } catch (const kiln::Error&) {
    // Written as given; the reader rejects it.
  }
  if (flags & kFixCrc) manifest = with_crc(std::move(manifest), crc_hex(blob));
  dir.write(manifest_name, manifest);
  if (blob_name.empty() || blob_name == manifest_name ||
      std::find(reserved.begin(), reserved.end(), blob_name) != reserved.end())
    return;
  dir.write(blob_name, blob);
}

}  // namespace kiln_fuzz
