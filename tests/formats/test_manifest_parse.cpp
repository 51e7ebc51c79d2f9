// parse_manifest on valid text and on every malformed header/number/name case of formats/README.md.
// Layout attacks (overflow, overlap, gaps) are in test_manifest_layout.cpp.
#include "formats/manifest.h"
#include "manifest_text.h"
#include "test_util.h"

namespace kiln {
namespace {
using test::ManifestText;
using testing::HasSubstr;

TEST(ManifestParse, ValidExample) {
  const Manifest m = parse_manifest(ManifestText().str(), "model/w.manifest");
  EXPECT_EQ(m.path, "model/w.manifest");
  EXPECT_EQ(m.blob_path, "model/weights.bin");
  EXPECT_EQ(m.blob_size, 3840u);
  EXPECT_EQ(m.alignment, 256u);
  EXPECT_EQ(m.crc32, 0x0c4f1a9eu);
  ASSERT_EQ(m.tensors.size(), 2u);
  const TensorEntry& w = m.tensors[0];
  EXPECT_EQ(w.name, "enc.0.weight");
  EXPECT_EQ(w.dtype, DType::F32);
  EXPECT_EQ(w.offset, 0u);
  EXPECT_EQ(w.nbytes, 3456u);
  EXPECT_EQ(w.shape, (Shape{32, 3, 3, 3}));
  EXPECT_EQ(w.line, 7);
  EXPECT_EQ(m.tensors[1].line, 8);
  EXPECT_EQ(m.find("enc.0.bias"), &m.tensors[1]);
  EXPECT_EQ(m.find("enc.0"), nullptr);
}

TEST(ManifestParse, BlobNextToManifestWithoutFolder) {
  EXPECT_EQ(parse_manifest(ManifestText().str(), "w.manifest").blob_path, "weights.bin");
}

TEST(ManifestParse, CommentsBlankLinesCrLfAndTabs) {
  const std::string text =
      "kiln-manifest 1\r\n# a comment\r\nblob weights.bin\n\n  \t\nblob-size\t3840\n   # indented comment\n"
      "alignment 256\ncrc32 0c4f1a9e\ntensors 2\n#\nenc.0.weight \t f32 0 3456 [32,3,3,3]\r\n"
      "enc.0.bias f32 3584 128 [32]\n# trailing comment\n\n";
  const Manifest m = parse_manifest(text, "w.manifest");
  ASSERT_EQ(m.tensors.size(), 2u);
  EXPECT_EQ(m.tensors[0].line, 12);
  EXPECT_EQ(m.tensors[1].line, 13);
}

TEST(ManifestParse, NoTrailingNewline) {
  std::string text = ManifestText().str();
  text.pop_back();
  EXPECT_EQ(parse_manifest(text, "w.manifest").tensors.size(), 2u);
}

TEST(ManifestParse, ScalarF16AndZeroTensors) {
  ManifestText t;
  t.blob_size = "blob-size 512";
  t.count = "tensors 2";
  t.tensors = {"s f32 0 4 []", "h f16 256 6 [1,3]"};
  const Manifest m = parse_manifest(t.str(), "w.manifest");
  EXPECT_TRUE(m.tensors[0].shape.empty());
  EXPECT_EQ(m.tensors[1].dtype, DType::F16);

  ManifestText empty;
  empty.blob_size = "blob-size 0";
  empty.count = "tensors 0";
  empty.tensors = {};
  EXPECT_TRUE(parse_manifest(empty.str(), "w.manifest").tensors.empty());
}

TEST(ManifestParse, LimitsThatAreStillValid) {
  ManifestText t;
  t.blob = "blob " + std::string(255, 'b');
  t.tensors[0] = std::string(256, 'n') + " f32 0 3456 [32,3,3,3]";
  t.tensors.push_back("# " + std::string(4094, 'c'));  // exactly 4096 bytes
  t.alignment = "alignment 16";
  t.blob_size = "blob-size 3600";
  t.tensors[1] = "enc.0.bias f32 3456 128 [32]";
  t.tensors.push_back("big f16 3584 2 [1,1,1,1,1,1,1,1]");
  t.count = "tensors 3";
  t.blob_size = "blob-size 3600";
  EXPECT_EQ(parse_manifest(t.str(), "w.manifest").tensors.size(), 3u);
}

// --- first line and version ---

TEST(ManifestParse, EmptyFile) {
  EXPECT_THAT(test::manifest_error(""), HasSubstr("w.manifest: file is empty, expected 'kiln-manifest 1'"));
}

TEST(ManifestParse, WrongMagic) {
  ManifestText t;
  t.magic = "GGUF 3";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:1: expected 'kiln-manifest 1', found 'GGUF 3'"));
  t.magic = "# comment first";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:1: expected 'kiln-manifest 1'"));
  t.magic = "kiln-manifest";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:1: expected 'kiln-manifest 1'"));
}

TEST(ManifestParse, FutureVersion) {
  ManifestText t;
  t.magic = "kiln-manifest 2";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:1: kiln-manifest version 2 is newer than this reader (it reads version 1)"));
  t.magic = "kiln-manifest 18446744073709551615";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("version 18446744073709551615 is newer than this reader"));
}

TEST(ManifestParse, BadVersion) {
  ManifestText t;
  t.magic = "kiln-manifest 0";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:1: kiln-manifest version: expected 1, found 0"));
  t.magic = "kiln-manifest 01";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:1: kiln-manifest version: expected a decimal number without leading zeros, "
                        "found '01'"));
  t.magic = "kiln-manifest -1";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("expected an unsigned decimal number, found '-1'"));
}

// --- header lines ---

TEST(ManifestParse, HeaderOutOfOrder) {
  ManifestText t;
  std::swap(t.blob_size, t.alignment);
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:3: expected the header line 'blob-size ...', found 'alignment 256' (header "
                        "lines come in the order blob, blob-size, alignment, crc32, tensors, each once)"));
}

TEST(ManifestParse, HeaderRepeated) {
  ManifestText t;
  t.blob_size = "blob weights.bin";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:3: expected the header line 'blob-size ...', found 'blob weights.bin'"));
}

TEST(ManifestParse, HeaderMissingAtEnd) {
  EXPECT_THAT(test::manifest_error("kiln-manifest 1\nblob w.bin\nblob-size 0\nalignment 256\ncrc32 00000000\n"),
              HasSubstr("w.manifest:5: file ends here, expected the header line 'tensors ...'"));
}

TEST(ManifestParse, HeaderWithExtraValue) {
  ManifestText t;
  t.blob_size = "blob-size 3840 3840";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:3: blob-size: expected one value, found 2"));
  t.blob_size = "blob-size";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:3: blob-size: expected one value, found 0"));
}

TEST(ManifestParse, BlobNamePathTraversal) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../weights.bin", "blob: file name '../weights.bin' contains '/': expected a file name in the same folder"},
      {"/etc/passwd", "blob: file name '/etc/passwd' contains '/'"},
      {"sub/weights.bin", "blob: file name 'sub/weights.bin' contains '/'"},
      // Quoted file text escapes its backslashes (base/text.h), so the name reads '..\\weights.bin'.
      {"..\\weights.bin", "blob: file name '..\\\\weights.bin' contains '\\'"},
      {"..", "blob: file name '..' contains '..'"},
      {"a..bin", "blob: file name 'a..bin' contains '..'"},
      {".", "blob: file name '.' is '.', expected a file name"},
  };
  for (const auto& [name, message] : cases) {
    ManifestText t;
    t.blob = "blob " + name;
    EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:2: " + message)) << name;
  }
}

TEST(ManifestParse, BlobNameTooLong) {
  ManifestText t;
  t.blob = "blob " + std::string(256, 'b');
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:2: blob: file name 'bbbb"));
  EXPECT_THAT(test::manifest_error(t), HasSubstr("is 256 characters long, expected at most 255"));
}

// --- numbers ---

TEST(ManifestParse, NumberSyntax) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"-1", "blob-size: expected an unsigned decimal number, found '-1'"},
      {"+5", "blob-size: expected an unsigned decimal number, found '+5'"},
      {"0x100", "blob-size: expected an unsigned decimal number, found '0x100'"},
      {"3840.0", "blob-size: expected an unsigned decimal number, found '3840.0'"},
      {"1e3", "blob-size: expected an unsigned decimal number, found '1e3'"},
      {"03840", "blob-size: expected a decimal number without leading zeros, found '03840'"},
      {"00", "blob-size: expected a decimal number without leading zeros, found '00'"},
      {"123456789012345678901", "blob-size: expected at most 20 digits, found 21"},
      {"18446744073709551616", "blob-size: '18446744073709551616' does not fit in 64 bits"},
      {"99999999999999999999", "blob-size: '99999999999999999999' does not fit in 64 bits"},
  };
  for (const auto& [value, message] : cases) {
    ManifestText t;
    t.blob_size = "blob-size " + value;
    EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:3: " + message)) << value;
  }
}

TEST(ManifestParse, Alignment) {
  for (const std::string a : {"100", "8", "0", "2097152", "255"}) {
    ManifestText t;
    t.alignment = "alignment " + a;
    EXPECT_THAT(test::manifest_error(t),
                HasSubstr("w.manifest:4: alignment: expected a power of two from 16 to 1048576, found " + a));
  }
}

TEST(ManifestParse, Crc) {
  for (const std::string c : {"0C4F1A9E", "c4f1a9e", "0c4f1a9e0", "0x4f1a9e", "0c4f1a9g"}) {
    ManifestText t;
    t.crc = "crc32 " + c;
    EXPECT_THAT(test::manifest_error(t),
                HasSubstr("w.manifest:5: crc32: expected 8 lowercase hex digits, found '" + c + "'"));
  }
}

// --- tensor count ---

TEST(ManifestParse, TensorCountAboveLimit) {
  for (const std::string n : {"1000001", "18446744073709551615"}) {
    ManifestText t;
    t.count = "tensors " + n;
    EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:6: tensors: expected at most 1000000, found " + n));
  }
}

TEST(ManifestParse, TensorCountLargerThanLines) {
  ManifestText t;
  t.count = "tensors 1000000";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest: expected 1000000 tensor lines (tensors 1000000 on line 6), found 2"));
}

TEST(ManifestParse, TensorCountSmallerThanLines) {
  ManifestText t;
  t.count = "tensors 1";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: expected only comments after the 1 tensor lines, "
                                                 "found 'enc.0.bias f32 3584 128 [32]'"));
}

// --- lines and characters ---

TEST(ManifestParse, LineTooLong) {
  ManifestText t;
  t.tensors.insert(t.tensors.begin(), "# " + std::string(4095, 'c'));  // 4097 bytes
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: line is longer than 4096 bytes"));
}

TEST(ManifestParse, EndlessLineWithoutNewline) {
  // 64 MiB with no newline: rejected after looking at the first 4 KiB.
  const std::string text = "kiln-manifest 1\n" + std::string(64u << 20, 'x');
  EXPECT_THAT(test::manifest_error(text), HasSubstr("w.manifest:2: line is longer than 4096 bytes"));
}

TEST(ManifestParse, NonAsciiAndControlBytes) {
  ManifestText t;
  t.tensors[0] = "enc.0.weight f32 0 3456 [32,3,3,3] \xc3\xa9";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: column 36: byte 195 is not printable ASCII text"));
  t.tensors[0] = std::string("enc.0\0.weight f32 0 3456 [32,3,3,3]", 35);
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: column 6: byte 0 is not printable ASCII text"));
  t.tensors[0] = "enc.0.weight f32 0 3456\r [32,3,3,3]";  // a CR is only tolerated right before LF
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: column 24: byte 13 is not printable ASCII text"));
}

// --- tensor lines ---

TEST(ManifestParse, TensorLineFieldCount) {
  ManifestText t;
  t.tensors[1] = "enc.0.bias f32 3584 128";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:8: expected a tensor line 'NAME DTYPE OFFSET NBYTES SHAPE', found 4 fields"));
  t.tensors[0] = "enc.0.weight f32 0 3456 [32, 3, 3, 3]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: expected a tensor line 'NAME DTYPE OFFSET NBYTES "
                                                 "SHAPE', found 8 fields (shapes are written without spaces)"));
}

TEST(ManifestParse, TensorNameRules) {
  ManifestText t;
  t.tensors[0] = std::string(257, 'n') + " f32 0 3456 [32,3,3,3]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: tensor name 'nnnn"));
  EXPECT_THAT(test::manifest_error(t), HasSubstr("is 257 characters long, expected at most 256"));
  t.tensors[0] = "enc@0 f32 0 3456 [32,3,3,3]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:7: tensor name 'enc@0' contains '@', expected only "
                                                 "A-Z a-z 0-9 _ . : / -"));
}

TEST(ManifestParse, DuplicateTensorName) {
  ManifestText t;
  t.tensors[1] = "enc.0.weight f32 3584 128 [32]";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("w.manifest:8: tensor 'enc.0.weight' is defined twice (first on line 7)"));
}

TEST(ManifestParse, UnknownDtype) {
  for (const std::string d : {"bf16", "F32", "f64", "int8"}) {
    ManifestText t;
    t.tensors[1] = "enc.0.bias " + d + " 3584 128 [32]";
    EXPECT_THAT(test::manifest_error(t),
                HasSubstr("w.manifest:8: tensor 'enc.0.bias': dtype: expected f32 or f16, found '" + d + "'"));
  }
}

TEST(ManifestParse, NegativeOrMalformedOffsetAndSize) {
  ManifestText t;
  t.tensors[1] = "enc.0.bias f32 -3584 128 [32]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: tensor 'enc.0.bias': offset: expected an unsigned "
                                                 "decimal number, found '-3584'"));
  t.tensors[1] = "enc.0.bias f32 3584 -128 [32]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: tensor 'enc.0.bias': nbytes: expected an unsigned "
                                                 "decimal number, found '-128'"));
  t.tensors[1] = "enc.0.bias f32 03584 128 [32]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("tensor 'enc.0.bias': offset: expected a decimal number without "
                                                 "leading zeros, found '03584'"));
  t.tensors[1] = "enc.0.bias f32 3584 18446744073709551744 [32]";
  EXPECT_THAT(test::manifest_error(t),
              HasSubstr("tensor 'enc.0.bias': nbytes: '18446744073709551744' does not fit in 64 bits"));
}

TEST(ManifestParse, ShapeSyntaxAndBounds) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"32", "shape: expected '[d0,d1,...]' (no spaces), found '32'"},
      {"[32", "shape: expected '[d0,d1,...]' (no spaces), found '[32'"},
      {"(32)", "shape: expected '[d0,d1,...]' (no spaces), found '(32)'"},
      {"[32,]", "shape dimension 1: expected an unsigned decimal number, found ''"},
      {"[,32]", "shape dimension 0: expected an unsigned decimal number, found ''"},
      {"[0]", "shape dimension 0: expected 1 <= d <= 2^40, found 0"},
      {"[-32]", "shape dimension 0: expected an unsigned decimal number, found '-32'"},
      {"[032]", "shape dimension 0: expected a decimal number without leading zeros, found '032'"},
      {"[1099511627777]", "shape dimension 0: expected 1 <= d <= 2^40, found 1099511627777"},
      {"[4398046511105]", "shape dimension 0: expected 1 <= d <= 2^40, found 4398046511105"},
      {"[1,1,1,1,1,1,1,1,32]", "shape: '[1,1,1,1,1,1,1,1,32]' has more than 8 dimensions"},
  };
  for (const auto& [shape, message] : cases) {
    ManifestText t;
    t.tensors[1] = "enc.0.bias f32 3584 128 " + shape;
    EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: tensor 'enc.0.bias': " + message)) << shape;
  }
}

TEST(ManifestParse, NbytesMustMatchShape) {
  ManifestText t;
  t.tensors[1] = "enc.0.bias f32 3584 100 [32]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: tensor 'enc.0.bias': nbytes 100 does not match "
                                                 "shape [32] x f32 = 128 bytes"));
  t.tensors[1] = "enc.0.bias f16 3584 128 [32]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: tensor 'enc.0.bias': nbytes 128 does not match "
                                                 "shape [32] x f16 = 64 bytes"));
  t.tensors[1] = "enc.0.bias f32 3584 128 []";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("nbytes 128 does not match shape [] x f32 = 4 bytes"));
}

TEST(ManifestParse, ShapeProductOverflow) {
  ManifestText t;
  // 2^40 * 2^24 = 2^64 elements: wraps to 0 in unchecked arithmetic, so nbytes 0 would "match".
  t.tensors[1] = "enc.0.bias f32 3584 0 [1099511627776,16777216]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: tensor 'enc.0.bias': shape "
                                                 "[1099511627776,16777216] has more than 2^64 elements"));
  t.tensors[1] = "enc.0.bias f32 3584 0 [1099511627776,1099511627776,1099511627776]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("has more than 2^64 elements"));
  // 2^62 elements fit, but 2^62 * 4 bytes wraps to 0.
  t.tensors[1] = "enc.0.bias f32 3584 0 [1099511627776,4194304]";
  EXPECT_THAT(test::manifest_error(t), HasSubstr("w.manifest:8: tensor 'enc.0.bias': shape [1099511627776,4194304] "
                                                 "x f32 is more than 2^64 bytes"));
}

}  // namespace
}  // namespace kiln
