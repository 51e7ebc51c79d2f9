// parse_manifest against the layout attacks of anchors.md §4: ranges that wrap, overlap, leave gaps,
// are misaligned or run past the blob; blob-size that disagrees with the tensors.
#include "formats/manifest.h"
#include "manifest_text.h"
#include "test_util.h"

namespace kiln {
namespace {
using test::ManifestText;
using testing::HasSubstr;

TEST(ManifestLayout, FirstTensorMustStartAtZero) {
  ManifestText t;
  t.tensors = {"enc.0.weight f32 256 3456 [32,3,3,3]", "enc.0.bias f32 3840 128 [32]"};
  t.blob_size = "blob-size 4096";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:7: tensor 'enc.0.weight': offset 256: expected 0, the first tensor starts the "
                        "blob"));
}

TEST(ManifestLayout, MisalignedOffset) {
  ManifestText t;
  t.tensors[1] = "enc.0.bias f32 3500 128 [32]";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:8: tensor 'enc.0.bias': offset 3500 is not a multiple of the alignment 256"));
  t.tensors[1] = "enc.0.bias f32 3456 128 [32]";  // right after the previous end, but not aligned
  EXPECT_THAT(test::manifest_error(t), HasSubstr("offset 3456 is not a multiple of the alignment 256"));
}

TEST(ManifestLayout, Overlap) {
  ManifestText t;
  t.tensors[1] = "enc.0.bias f32 3328 128 [32]";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:8: tensor 'enc.0.bias': offset 3328 overlaps tensor 'enc.0.weight' (line 7, "
                        "bytes 0 to 3456); expected offset 3584"));
  t.tensors[1] = "enc.0.bias f32 0 128 [32]";  // same start
  EXPECT_THAT(test::manifest_error(t), HasSubstr("offset 0 overlaps tensor 'enc.0.weight'"));
}

TEST(ManifestLayout, DescendingOrder) {
  ManifestText t;
  t.tensors = {"enc.0.bias f32 3584 128 [32]", "enc.0.weight f32 0 3456 [32,3,3,3]"};
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: tensor 'enc.0.bias': offset 3584: expected 0"));
}

TEST(ManifestLayout, Gap) {
  ManifestText t;
  t.tensors[1] = "enc.0.bias f32 3840 128 [32]";
  t.blob_size = "blob-size 4096";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:8: tensor 'enc.0.bias': offset 3840 leaves a gap after tensor 'enc.0.weight' "
                        "(line 7, bytes 0 to 3456); expected offset 3584 (its end rounded up to the alignment 256)"));
}

TEST(ManifestLayout, EndPastBlob) {
  ManifestText t;
  t.blob_size = "blob-size 3584";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:8: tensor 'enc.0.bias': ends at byte 3712, past the blob-size 3584"));
  t.blob_size = "blob-size 0";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:7: tensor 'enc.0.weight': ends at byte 3456, past the blob-size 0"));
}

TEST(ManifestLayout, OffsetPlusSizeWraps) {
  // Tensor a fills [0, 2^63); b starts at 2^63 with 2^63 bytes, so offset + nbytes is exactly 2^64,
  // which wraps to 0 without checked arithmetic.
  ManifestText t;
  t.blob_size = "blob-size 18446744073709551360";
  t.tensors = {"a f32 0 9223372036854775808 [1099511627776,2097152]",
               "b f32 9223372036854775808 9223372036854775808 [1099511627776,2097152]"};
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:8: tensor 'b': offset 9223372036854775808 + nbytes 9223372036854775808 "
                        "overflows 64 bits"));
}

// Tensors of 2^63, 2^62, ..., 2^4 bytes tile [0, 2^64 - 16) with alignment 16; a 2-byte tensor after
// them ends at 2^64 - 14, and rounding that up to the alignment wraps.
ManifestText near_2_64(const std::vector<std::string>& last) {
  ManifestText t;
  t.alignment = "alignment 16";
  t.blob_size = "blob-size 18446744073709551615";
  t.tensors.clear();
  std::uint64_t offset = 0;
  for (int k = 63; k >= 4; --k) {
    const std::uint64_t elements = std::uint64_t{1} << (k - 2);
    const std::string shape =
        k - 2 <= 40 ? "[" + std::to_string(elements) + "]" : "[1099511627776," + std::to_string(elements >> 40) + "]";
    t.tensors.push_back("t" + std::to_string(k) + " f32 " + std::to_string(offset) + " " +
                        std::to_string(elements * 4) + " " + shape);
    offset += elements * 4;
  }
  EXPECT_EQ(offset, 18446744073709551600u);
  for (const std::string& l : last) t.tensors.push_back(l);
  t.count = "tensors " + std::to_string(t.tensors.size());
  return t;
}

TEST(ManifestLayout, AlignUpOfLastEndWraps) {
  const ManifestText t = near_2_64({"c f16 18446744073709551600 2 []"});
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:3: blob-size 18446744073709551615 does not match the tensors: the last tensor "
                        "'c' ends at 18446744073709551602, so expected more than 2^64 (rounded up to the alignment "
                        "16)"));
}

TEST(ManifestLayout, AlignUpOfPreviousEndWraps) {
  const ManifestText t = near_2_64({"c f16 18446744073709551600 2 []", "d f16 18446744073709551602 2 []"});
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:68: tensor 'd': the previous tensor's end rounded up "
                                                 "to the alignment overflows 64 bits"));
}

TEST(ManifestLayout, BlobSizeMustBeLastEndRoundedUp) {
  ManifestText t;
  t.blob_size = "blob-size 4096";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:3: blob-size 4096 does not match the tensors: the last tensor 'enc.0.bias' ends "
                        "at 3712, so expected 3840 (rounded up to the alignment 256)"));
  t.blob_size = "blob-size 3712";  // the exact end, without the trailing padding
  EXPECT_THAT(test::manifest_error(t), HasSubstr("blob-size 3712 does not match the tensors"));
}

TEST(ManifestLayout, BlobSizeWithoutTensors) {
  ManifestText t;
  t.count = "tensors 0";
  t.tensors = {};
  t.blob_size = "blob-size 256";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:3: blob-size 256 does not match the tensors: expected 0 for no tensors"));
}

TEST(ManifestLayout, BlobSizeLineFollowsComments) {
  const std::string text =
      "kiln-manifest 1\n# c\nblob weights.bin\n# c\nblob-size 1\nalignment 256\ncrc32 00000000\ntensors 0\n";
  EXPECT_THAT(test::manifest_error(text), HasSubstr("w.manifest:5: blob-size 1 does not match the tensors"));
}

TEST(ManifestLayout, LargeAlignmentTiles) {
  ManifestText t;
  t.alignment = "alignment 1048576";
  t.tensors[1] = "enc.0.bias f32 1048576 128 [32]";
  t.blob_size = "blob-size 2097152";
  EXPECT_EQ(parse_manifest(t.str(), "w.manifest").tensors[1].offset, 1048576u);
}

}  // namespace
}  // namespace kiln
