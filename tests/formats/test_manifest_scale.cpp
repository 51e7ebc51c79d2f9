// Lookups by name at scale: Manifest::find goes through an index built while parsing (it was a linear
// scan, which made loading a manifest of 10^6 tensors quadratic). The timing lives in
// benchmarks/host_load_bench.cpp; these tests check the answers, including after copies and moves.
#include <memory>
#include <string>
#include <utility>

#include "formats/manifest.h"
#include "manifest_text.h"
#include "test_util.h"

namespace kiln {
namespace {
using testing::HasSubstr;

// Longer than std::string's inline buffer, like real weight names.
std::string name_of(std::size_t i) {
  return "stage" + std::to_string(i / 1000) + ".block" + std::to_string(i % 1000) + ".conv.weight";
}

// A valid manifest of `n` one-element f32 tensors, alignment 16: tensor i is at offset 16 i, line 7 + i.
std::string many_tensors(std::size_t n, const std::string& extra_line = "") {
  const std::size_t count = n + (extra_line.empty() ? 0 : 1);
  std::string text = "kiln-manifest 1\nblob weights.bin\nblob-size " + std::to_string(16 * count) +
                     "\nalignment 16\ncrc32 00000000\ntensors " + std::to_string(count) + "\n";
  for (std::size_t i = 0; i < n; ++i) text += name_of(i) + " f32 " + std::to_string(16 * i) + " 4 [1]\n";
  if (!extra_line.empty()) text += extra_line + "\n";
  return text;
}

// Every name of a manifest made by many_tensors(n) resolves to its own entry; near misses do not.
void expect_every_name_found(const Manifest& m, std::size_t n) {
  ASSERT_EQ(m.tensors.size(), n);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = name_of(i);
    const TensorEntry* e = m.find(name);
    if (e != &m.tensors[i] || e->name != name || e->offset != 16 * i || e->line != static_cast<int>(7 + i)) {
      if (++wrong <= 5) ADD_FAILURE() << "find(\"" << name << "\") returned the wrong entry";
    }
    if (i % 8 == 0 && (m.find(name + "x") != nullptr || m.find(name.substr(0, name.size() - 1)) != nullptr)) {
      if (++wrong <= 5) ADD_FAILURE() << "find found a near miss of \"" << name << "\"";
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(m.find(""), nullptr);
  EXPECT_EQ(m.find(name_of(n)), nullptr);
}

TEST(ManifestScale, EveryNameOfTwoHundredThousandTensorsIsFound) {
  constexpr std::size_t n = 200000;
  const Manifest m = parse_manifest(many_tensors(n), "w.manifest");
  expect_every_name_found(m, n);
  EXPECT_EQ(m.blob_size, 16 * n);
}

TEST(ManifestScale, DuplicateAfterManyTensorsNamesTheFirstLine) {
  const std::string dup = name_of(7000) + " f32 " + std::to_string(16 * 10000) + " 4 [1]";
  EXPECT_THAT(test::manifest_error(many_tensors(10000, dup)),
              HasSubstr("w.manifest:10007: tensor '" + name_of(7000) + "' is defined twice (first on line 7007)"));
}

TEST(ManifestScale, CopiesAndMovesKeepAWorkingIndex) {
  constexpr std::size_t n = 3000;
  auto original = std::make_unique<Manifest>(parse_manifest(many_tensors(n), "w.manifest"));
  Manifest copy = *original;
  Manifest assigned;
  assigned = *original;
  original.reset();  // nothing of the copies may point into the original
  expect_every_name_found(copy, n);
  expect_every_name_found(assigned, n);

  Manifest moved = std::move(copy);
  expect_every_name_found(moved, n);
  Manifest move_assigned;
  move_assigned = std::move(assigned);
  expect_every_name_found(move_assigned, n);
}

TEST(ManifestScale, ManifestFilledByHandIsSearchedUntilReindexed) {
  Manifest m;
  EXPECT_EQ(m.find("a"), nullptr);
  for (const char* name : {"a", "b", "a"}) {
    TensorEntry e;
    e.name = name;
    e.offset = 16 * m.tensors.size();
    m.tensors.push_back(e);
  }
  EXPECT_EQ(m.find("a"), &m.tensors[0]);  // the first of a duplicated name, as a linear scan finds it
  EXPECT_EQ(m.find("b"), &m.tensors[1]);
  EXPECT_EQ(m.find("c"), nullptr);
  m.reindex();
  EXPECT_EQ(m.find("a"), &m.tensors[0]);
  EXPECT_EQ(m.find("b"), &m.tensors[1]);
  EXPECT_EQ(m.find("c"), nullptr);

  // Entries added to a parsed manifest are still found (the index no longer covers them all).
  Manifest parsed = parse_manifest(many_tensors(10), "w.manifest");
  TensorEntry extra;
  extra.name = "extra";
  parsed.tensors.push_back(extra);
  EXPECT_EQ(parsed.find("extra"), &parsed.tensors.back());
  EXPECT_EQ(parsed.find(name_of(3)), &parsed.tensors[3]);

  // A renamed entry is never returned under its old name, and is found under the new one after reindex().
  parsed.tensors[3].name = "renamed";
  EXPECT_EQ(parsed.find(name_of(3)), nullptr);
  parsed.reindex();
  EXPECT_EQ(parsed.find("renamed"), &parsed.tensors[3]);
  EXPECT_EQ(parsed.find(name_of(3)), nullptr);
  parsed.tensors[4].name = "renamed too";  // while indexed: the index's hash matches, the name does not
  EXPECT_EQ(parsed.find(name_of(4)), nullptr);
}

}  // namespace
}  // namespace kiln
