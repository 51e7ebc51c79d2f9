// parse_manifest: the text half of formats/README.md. Every number that comes from the file goes
// through checked arithmetic and every range is compared with the exact layout the spec allows, so
// that no later code has to trust the file.
#include "formats/manifest.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>

#include "base/errors.h"
#include "base/checked_math.h"
#include "formats/rules.h"

namespace kiln {

namespace {
using rules::quote;

// Hands out the manifest's lines one at a time (terminator and a trailing '\r' removed) and produces
// "<path>:<line>: " errors.
class LineReader {
 public:
  LineReader(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    ++number_;
    // Look no further than one line may be long, so an endless line fails without scanning it.
    const std::size_t nl = text_.substr(pos_, rules::kMaxLineBytes + 2).find('\n');
    std::size_t end =
        nl == std::string_view::npos ? std::min(text_.size(), pos_ + rules::kMaxLineBytes + 2) : pos_ + nl;
    std::string_view l = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.size() > rules::kMaxLineBytes) fail("line is longer than " + std::to_string(rules::kMaxLineBytes) + " bytes");
    for (std::size_t i = 0; i < l.size(); ++i) {
      const auto c = static_cast<unsigned char>(l[i]);
      if (c != '\t' && (c < 0x20 || c > 0x7e))
        fail("column " + std::to_string(i + 1) + ": byte " + std::to_string(c) + " is not printable ASCII text");
    }
    line = l;
    return true;
  }

  // The next line that is not blank or a comment; false at the end of the text.
  bool next_content(std::string_view& line) {
    while (next(line)) {
      const std::size_t first = line.find_first_not_of(" \t");
      if (first != std::string_view::npos && line[first] != '#') return true;
    }
    return false;
  }

  int number() const { return number_; }
  [[noreturn]] void fail(const std::string& msg) const { throw FormatError(rules::where(path_, number_) + msg); }

 private:
  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
  int number_ = 0;
};

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (true) {
    i = line.find_first_not_of(" \t", i);
    if (i == std::string_view::npos) return out;
    std::size_t j = line.find_first_of(" \t", i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j;
  }
}

// Unsigned decimal: digits only, no leading zeros, at most 20 digits, fits in 64 bits.
std::uint64_t parse_number(std::string_view s, const std::string& field, const LineReader& r) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    r.fail(field + ": expected an unsigned decimal number, found " + quote(s));
  if (s.size() > 1 && s[0] == '0')
    r.fail(field + ": expected a decimal number without leading zeros, found " + quote(s));
  if (s.size() > 20) r.fail(field + ": expected at most 20 digits, found " + std::to_string(s.size()));
  std::uint64_t v = 0;
  for (char c : s) {
    auto next = checked_mul(v, 10);
    if (next) next = checked_add(*next, static_cast<std::uint64_t>(c - '0'));
    if (!next) r.fail(field + ": " + quote(s) + " does not fit in 64 bits");
    v = *next;
  }
  return v;
}

Shape parse_shape(std::string_view s, const std::string& field, const LineReader& r) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']')
    r.fail(field + ": expected '[d0,d1,...]' (no spaces), found " + quote(s));
  std::string_view inner = s.substr(1, s.size() - 2);
  Shape shape;
  if (inner.empty()) return shape;
  while (true) {
    if (shape.size() == rules::kMaxRank)
      r.fail(field + ": " + quote(s) + " has more than " + std::to_string(rules::kMaxRank) + " dimensions");
    const std::size_t comma = inner.find(',');
    const std::string_view piece = inner.substr(0, comma);
    const std::string dim_field = field + " dimension " + std::to_string(shape.size());
    const std::uint64_t d = parse_number(piece, dim_field, r);
    if (d < 1 || d > rules::kMaxTensorDim) r.fail(dim_field + ": expected 1 <= d <= 2^40, found " + std::to_string(d));
    shape.push_back(static_cast<std::int64_t>(d));
    if (comma == std::string_view::npos) return shape;
    inner.remove_prefix(comma + 1);
  }
}

// Reads the header line `keyword VALUE` that must come next.
std::string_view header_value(LineReader& r, const char* keyword) {
  static const char* const kOrder = "blob, blob-size, alignment, crc32, tensors";
  std::string_view line;
  if (!r.next_content(line)) r.fail(std::string("file ends here, expected the header line '") + keyword + " ...'");
  const auto fields = split_fields(line);
  if (fields[0] != keyword) {
    r.fail(std::string("expected the header line '") + keyword + " ...', found " + quote(line) +
           " (header lines come in the order " + kOrder + ", each once)");
  }
  if (fields.size() != 2)
    r.fail(std::string(keyword) + ": expected one value, found " + std::to_string(fields.size() - 1));
  return fields[1];
}

struct Previous {
  const TensorEntry* entry = nullptr;
  std::uint64_t end = 0;
};

void check_layout(const TensorEntry& e, const Previous& prev, const Manifest& m, const LineReader& r) {
  const std::string field = "tensor '" + e.name + "'";
  std::uint64_t expected = 0;
  if (prev.entry) {
    auto aligned = checked_align_up(prev.end, m.alignment);
    if (!aligned) r.fail(field + ": the previous tensor's end rounded up to the alignment overflows 64 bits");
    expected = *aligned;
  }
  const std::string off = std::to_string(e.offset);
  if (e.offset % m.alignment != 0)
    r.fail(field + ": offset " + off + " is not a multiple of the alignment " + std::to_string(m.alignment));
  if (e.offset != expected) {
    if (!prev.entry) r.fail(field + ": offset " + off + ": expected 0, the first tensor starts the blob");
    const std::string prev_desc = "tensor '" + prev.entry->name + "' (line " + std::to_string(prev.entry->line) +
                                  ", bytes " + std::to_string(prev.entry->offset) + " to " + std::to_string(prev.end) +
                                  ")";
    const std::string exp = "expected offset " + std::to_string(expected);
    if (e.offset < expected) r.fail(field + ": offset " + off + " overlaps " + prev_desc + "; " + exp);
    r.fail(field + ": offset " + off + " leaves a gap after " + prev_desc + "; " + exp +
           " (its end rounded up to the alignment " + std::to_string(m.alignment) + ")");
  }
  const auto end = checked_add(e.offset, e.nbytes);
  if (!end) r.fail(field + ": offset " + off + " + nbytes " + std::to_string(e.nbytes) + " overflows 64 bits");
  if (*end > m.blob_size)
    r.fail(field + ": ends at byte " + std::to_string(*end) + ", past the blob-size " + std::to_string(m.blob_size));
}

TensorEntry parse_tensor_line(std::string_view line, const LineReader& r) {
  const auto fields = split_fields(line);
  if (fields.size() != 5) {
    r.fail("expected a tensor line 'NAME DTYPE OFFSET NBYTES SHAPE', found " + std::to_string(fields.size()) +
           " fields" + (fields.size() > 5 ? " (shapes are written without spaces)" : ""));
  }
  TensorEntry e;
  e.line = r.number();
  const std::string problem = rules::check_name(fields[0]);
  if (!problem.empty()) r.fail("tensor name " + quote(fields[0]) + " " + problem);
  e.name = std::string(fields[0]);
  const std::string field = "tensor '" + e.name + "'";
  const auto dtype = parse_dtype(fields[1]);
  if (!dtype) r.fail(field + ": dtype: expected f32 or f16, found " + quote(fields[1]));
  e.dtype = *dtype;
  e.offset = parse_number(fields[2], field + ": offset", r);
  e.nbytes = parse_number(fields[3], field + ": nbytes", r);
  e.shape = parse_shape(fields[4], field + ": shape", r);
  std::uint64_t elements = 1;
  for (std::int64_t d : e.shape) {
    const auto next = checked_mul(elements, static_cast<std::uint64_t>(d));
    if (!next) r.fail(field + ": shape " + shape_to_string(e.shape) + " has more than 2^64 elements");
    elements = *next;
  }
  const auto bytes = checked_mul(elements, dtype_size(e.dtype));
  const std::string what = "shape " + shape_to_string(e.shape) + " x " + dtype_name(e.dtype);
  if (!bytes) r.fail(field + ": " + what + " is more than 2^64 bytes");
  if (*bytes != e.nbytes)
    r.fail(field + ": nbytes " + std::to_string(e.nbytes) + " does not match " + what + " = " + std::to_string(*bytes) +
           " bytes");
  return e;
}

void parse_header(LineReader& r, Manifest& m, std::uint64_t& count, int& blob_size_line) {
  std::string_view line;
  if (!r.next(line)) throw FormatError(m.path + ": file is empty, expected 'kiln-manifest 1' on line 1");
  const auto first = split_fields(line);
  if (first.empty() || first[0] != "kiln-manifest" || first.size() != 2)
    r.fail("expected 'kiln-manifest 1', found " + quote(line) + " (not a kiln manifest)");
  const std::uint64_t version = parse_number(first[1], "kiln-manifest version", r);
  if (version > rules::kManifestVersion)
    r.fail("kiln-manifest version " + std::to_string(version) + " is newer than this reader (it reads version 1)");
  if (version != rules::kManifestVersion) r.fail("kiln-manifest version: expected 1, found " + std::to_string(version));

  const std::string_view blob = header_value(r, "blob");
  const std::string problem = rules::check_file_name(blob);
  if (!problem.empty()) r.fail("blob: file name " + quote(blob) + " " + problem);
  m.blob_path = (std::filesystem::path(m.path).parent_path() / std::string(blob)).string();

  m.blob_size = parse_number(header_value(r, "blob-size"), "blob-size", r);
  blob_size_line = r.number();

  m.alignment = parse_number(header_value(r, "alignment"), "alignment", r);
  if (m.alignment < rules::kMinAlignment || m.alignment > rules::kMaxAlignment || (m.alignment & (m.alignment - 1)))
    r.fail("alignment: expected a power of two from 16 to 1048576, found " + std::to_string(m.alignment));

  const std::string_view crc = header_value(r, "crc32");
  if (crc.size() != 8 ||
      !std::all_of(crc.begin(), crc.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    r.fail("crc32: expected 8 lowercase hex digits, found " + quote(crc));
  m.crc32 = static_cast<std::uint32_t>(std::stoul(std::string(crc), nullptr, 16));

  count = parse_number(header_value(r, "tensors"), "tensors", r);
  if (count > rules::kMaxTensors)
    r.fail("tensors: expected at most " + std::to_string(rules::kMaxTensors) + ", found " + std::to_string(count));
}
}  // namespace

namespace {
std::size_t name_hash(std::string_view name) { return std::hash<std::string_view>{}(name); }
// The slot is chosen by the hash's low bits, the tag holds its high ones.
std::uint32_t name_tag(std::size_t hash) { return static_cast<std::uint32_t>(static_cast<std::uint64_t>(hash) >> 32); }
}  // namespace

const TensorEntry* Manifest::find(std::string_view name) const {
  if (indexed_ != tensors.size() || index_.empty()) {  // filled by hand (or moved from) and not reindexed
    for (const TensorEntry& e : tensors)
      if (e.name == name) return &e;
    return nullptr;
  }
  return find_indexed(name, name_hash(name));
}

const TensorEntry* Manifest::find_indexed(std::string_view name, std::size_t hash) const {
  if (index_.empty()) return nullptr;
  const std::size_t mask = index_.size() - 1;
  const std::uint32_t tag = name_tag(hash);
  // Never more than half full, so the probe ends at an empty slot. Entries are placed in position order,
  // so of two equal names the first in `tensors` is met first.
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const IndexSlot& slot = index_[i];
    if (slot.position == 0) return nullptr;
    if (slot.tag == tag && tensors[slot.position - 1].name == name) return &tensors[slot.position - 1];
  }
}

void Manifest::index_place(std::size_t hash, std::size_t position) {
  const std::size_t mask = index_.size() - 1;
  std::size_t i = hash & mask;
  while (index_[i].position != 0) i = (i + 1) & mask;
  index_[i] = IndexSlot{name_tag(hash), static_cast<std::uint32_t>(position + 1)};
}

void Manifest::index_reserve(std::size_t count) {
  std::size_t slots = 16;
  while (slots < 2 * count) slots *= 2;
  if (slots <= index_.size()) return;
  index_.assign(slots, IndexSlot{});
  for (std::size_t i = 0; i < indexed_; ++i) index_place(name_hash(tensors[i].name), i);
}

void Manifest::index_next(std::size_t hash) {
  index_reserve(indexed_ + 1);
  index_place(hash, indexed_);
  ++indexed_;
}

void Manifest::reindex() {
  index_.clear();
  indexed_ = 0;
  if (tensors.size() >= UINT32_MAX) return;  // positions do not fit a slot: find stays linear
  index_reserve(tensors.size());
  while (indexed_ < tensors.size()) index_next(name_hash(tensors[indexed_].name));
}

Manifest parse_manifest(std::string_view text, const std::string& path) {
  Manifest m;
  m.path = path;
  LineReader r(text, m.path);
  std::uint64_t count = 0;
  int blob_size_line = 0;
  parse_header(r, m, count, blob_size_line);
  const int count_line = r.number();

  // Never reserve more entries than the remaining text could describe (a tensor line is >= 12 bytes).
  const auto reserve = static_cast<std::size_t>(std::min<std::uint64_t>(count, text.size() / 12));
  m.tensors.reserve(reserve);
  m.index_reserve(reserve);  // the name index doubles as the duplicate check
  Previous prev;
  std::string_view line;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!r.next_content(line)) {
      throw FormatError(m.path + ": expected " + std::to_string(count) + " tensor lines (tensors " +
                        std::to_string(count) + " on line " + std::to_string(count_line) + "), found " +
                        std::to_string(i));
    }
    TensorEntry e = parse_tensor_line(line, r);
    const std::size_t hash = name_hash(e.name);
    if (const TensorEntry* first = m.find_indexed(e.name, hash))
      r.fail("tensor '" + e.name + "' is defined twice (first on line " + std::to_string(first->line) + ")");
    check_layout(e, prev, m, r);
    m.tensors.push_back(std::move(e));
    m.index_next(hash);
    prev.entry = &m.tensors.back();
    prev.end = prev.entry->offset + prev.entry->nbytes;  // checked in check_layout
  }
  if (r.next_content(line)) {
    r.fail("expected only comments after the " + std::to_string(count) + " tensor lines, found " + quote(line));
  }

  const auto expected_size = prev.entry ? checked_align_up(prev.end, m.alignment) : std::optional<std::uint64_t>(0);
  if (m.blob_size != expected_size) {
    const std::string found = "blob-size " + std::to_string(m.blob_size) + " does not match the tensors: ";
    if (!prev.entry) throw FormatError(rules::where(m.path, blob_size_line) + found + "expected 0 for no tensors");
    throw FormatError(rules::where(m.path, blob_size_line) + found + "the last tensor '" + prev.entry->name +
                      "' ends at " + std::to_string(prev.end) + ", so expected " +
                      (expected_size ? std::to_string(*expected_size) : std::string("more than 2^64")) +
                      " (rounded up to the alignment " + std::to_string(m.alignment) + ")");
  }
  return m;
}

}  // namespace kiln
