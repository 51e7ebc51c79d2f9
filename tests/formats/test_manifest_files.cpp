// write_tensor_file -> read_tensor_file round trips, and the on-disk failures: missing, oversized or
// truncated files, CRC mismatch, nonzero padding, writer validation.
#include <cstring>
#include <random>

#include "formats/manifest.h"
#include "test_util.h"

namespace kiln {
namespace {
using test::error_of;
using test::TempDir;
using testing::HasSubstr;

std::vector<float> random_floats(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<std::uint16_t> random_halves(std::size_t n, std::mt19937& rng) {
  std::vector<std::uint16_t> v(n);
  for (std::uint16_t& h : v) {
    do h = static_cast<std::uint16_t>(rng());
    while ((h & 0x7c00u) == 0x7c00u);  // finite only
  }
  return v;
}

TEST(TensorFile, RoundTripF32AndF16) {
  TempDir dir;
  std::mt19937 rng(7);
  const auto a = random_floats(32 * 3 * 3 * 3, rng);
  const auto b = random_floats(1, rng);
  const auto c = random_halves(5 * 7, rng);
  const auto d = random_floats(2 * 1 * 3 * 1 * 2 * 1 * 1 * 2, rng);
  const auto e = random_halves(1, rng);
  const std::vector<TensorToWrite> tensors = {
      {"enc.0.weight", DType::F32, {32, 3, 3, 3}, a.data()},
      {"scalar", DType::F32, {}, b.data()},
      {"half:x/y-z_0", DType::F16, {5, 7}, c.data()},
      {"rank8", DType::F32, {2, 1, 3, 1, 2, 1, 1, 2}, d.data()},
      {"h1", DType::F16, {1}, e.data()},
  };
  write_tensor_file(dir.str(), "golden", tensors);

  const TensorFile tf = read_tensor_file(dir.file("golden.manifest"));
  const Manifest& m = tf.manifest;
  EXPECT_EQ(m.blob_path, dir.file("golden.bin"));
  EXPECT_EQ(m.alignment, 256u);
  ASSERT_EQ(m.tensors.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorEntry& t = m.tensors[i];
    EXPECT_EQ(t.name, tensors[i].name);
    EXPECT_EQ(t.dtype, tensors[i].dtype);
    EXPECT_EQ(t.shape, tensors[i].shape);
    EXPECT_EQ(t.offset % 256, 0u);
    EXPECT_EQ(t.nbytes, element_count(t.shape) * dtype_size(t.dtype));
    EXPECT_EQ(std::memcmp(tf.data(t), tensors[i].data, t.nbytes), 0) << t.name;
  }
  EXPECT_EQ(m.tensors[1].offset, 3584u);  // 3456 rounded up
  EXPECT_EQ(m.blob_size, (m.tensors.back().offset + 2 + 255) / 256 * 256);
  EXPECT_EQ(tf.blob.size(), m.blob_size);
  EXPECT_EQ(std::filesystem::file_size(m.blob_path), m.blob_size);
  EXPECT_EQ(crc32_update(0, tf.blob.data(), tf.blob.size()), m.crc32);

  EXPECT_EQ(tf.to_float("enc.0.weight"), a);  // f32: bit-exact
  const std::vector<float> cf = tf.to_float("half:x/y-z_0");
  ASSERT_EQ(cf.size(), c.size());
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(cf[i], half_to_float(c[i]));
  EXPECT_EQ(tf.to_float("scalar"), b);

  // The same blob through the caller-buffer interface.
  std::vector<std::uint8_t> buffer(m.blob_size);
  read_blob_into(m, buffer.data(), buffer.size());
  EXPECT_EQ(buffer, tf.blob);
}

TEST(TensorFile, RoundTripNoTensors) {
  TempDir dir;
  write_tensor_file(dir.str(), "empty", {});
  const TensorFile tf = read_tensor_file(dir.file("empty.manifest"));
  EXPECT_TRUE(tf.manifest.tensors.empty());
  EXPECT_EQ(tf.manifest.blob_size, 0u);
  EXPECT_EQ(test::read_all(dir.file("empty.bin")), "");
  read_blob_into(tf.manifest, nullptr, 0);
}

TEST(TensorFile, WrittenManifestIsCanonical) {
  TempDir dir;
  const float x[2] = {1.0f, -2.0f};
  write_tensor_file(dir.str(), "w", {{"x", DType::F32, {2}, x}});
  std::string blob(256, '\0');
  std::memcpy(blob.data(), x, sizeof x);
  EXPECT_EQ(test::read_all(dir.file("w.bin")), blob);
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", crc32_update(0, blob.data(), blob.size()));
  EXPECT_EQ(test::read_all(dir.file("w.manifest")), std::string("kiln-manifest 1\nblob w.bin\nblob-size 256\n"
                                                                "alignment 256\ncrc32 ") +
                                                        crc + "\ntensors 1\nx f32 0 8 [2]\n");
}

TEST(TensorFile, ToFloatUnknownName) {
  TempDir dir;
  const float x = 1.0f;
  write_tensor_file(dir.str(), "w", {{"x", DType::F32, {}, &x}});
  const TensorFile tf = read_tensor_file(dir.file("w.manifest"));
  EXPECT_THAT(error_of([&] { tf.to_float("y"); }), HasSubstr(dir.file("w.manifest") + ": no tensor named 'y'"));
}

// --- writer validation ---

TEST(TensorFileWriter, RejectsBadInput) {
  TempDir dir;
  const float x[4] = {};
  const std::string m = dir.file("w.manifest");
  auto write = [&](std::vector<TensorToWrite> t) { write_tensor_file(dir.str(), "w", t); };
  EXPECT_THAT(error_of([&] {
                write({{"bad name", DType::F32, {1}, x}});
              }),
              HasSubstr(m + ": tensor name 'bad name' contains ' '"));
  EXPECT_THAT(error_of([&] { write({{"", DType::F32, {1}, x}}); }), HasSubstr(m + ": tensor name '' is empty"));
  EXPECT_THAT(error_of([&] {
                write({{"a", DType::F32, {1}, x}, {"a", DType::F32, {1}, x}});
              }),
              HasSubstr(m + ": tensor 'a': the name is used twice"));
  EXPECT_THAT(error_of([&] {
                write({{"a", DType::F32, {1, 1, 1, 1, 1, 1, 1, 1, 1}, x}});
              }),
              HasSubstr(m + ": tensor 'a': shape [1,1,1,1,1,1,1,1,1] has 9 dimensions, expected at most 8"));
  EXPECT_THAT(error_of([&] {
                write({{"a", DType::F32, {0}, x}});
              }),
              HasSubstr(m + ": tensor 'a': shape [0]: expected every 1 <= d <= 2^40"));
  EXPECT_THAT(error_of([&] { write({{"a", DType::F32, {-4}, x}}); }), HasSubstr("shape [-4]: expected every"));
  EXPECT_THAT(error_of<UsageError>([&] {
                write({{"a", DType::F32, {1}, nullptr}});
              }),
              HasSubstr(m + ": tensor 'a': data is null"));
  EXPECT_THAT(error_of([&] {
                write({{"a", DType::F32, {1099511627776, 1099511627776}, x}});
              }),
              HasSubstr(m + ": tensor 'a': the blob would be larger than 2^64 bytes"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.str()));  // nothing written on validation errors
}

TEST(TensorFileWriter, RejectsBadStem) {
  TempDir dir;
  EXPECT_THAT(error_of([&] { write_tensor_file(dir.str(), "../escape", {}); }),
              HasSubstr("file stem '../escape' contains '/'"));
  EXPECT_THAT(error_of([&] { write_tensor_file(dir.str(), "", {}); }), HasSubstr("file stem '' is empty"));
}

TEST(TensorFileWriter, IoErrorNamesThePath) {
  TempDir dir;
  const std::string missing = dir.file("no/such/folder");
  const std::string msg = error_of<Error>([&] { write_tensor_file(missing, "w", {}); });
  EXPECT_THAT(msg, HasSubstr(missing + "/w.bin: cannot create: No such file or directory"));
}

// --- reading failures ---

class BrokenFiles : public testing::Test {
 protected:
  void SetUp() override {
    std::vector<float> a(864, 1.5f);  // 3456 bytes: 128 padding bytes follow
    std::vector<float> b(32, -0.25f);
    write_tensor_file(dir.str(), "w", {{"a", DType::F32, {864}, a.data()}, {"b", DType::F32, {32}, b.data()}});
    manifest = dir.file("w.manifest");
    blob = dir.file("w.bin");
  }
  // Rewrites the blob and, with fix_crc, the manifest's crc32 line so only the intended defect remains.
  void rewrite_blob(const std::string& bytes, bool fix_crc) {
    dir.write("w.bin", bytes);
    if (!fix_crc) return;
    std::string text = test::read_all(manifest);
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", crc32_update(0, bytes.data(), bytes.size()));
    text.replace(text.find("crc32 ") + 6, 8, hex);
    dir.write("w.manifest", text);
  }
  std::string read_error() {
    return error_of([&] { read_tensor_file(manifest); });
  }
  TempDir dir;
  std::string manifest;
  std::string blob;
};

TEST_F(BrokenFiles, MissingManifest) {
  EXPECT_THAT(error_of([&] { read_tensor_file(dir.file("nope.manifest")); }),
              HasSubstr(dir.file("nope.manifest") + ": cannot open manifest: No such file or directory"));
}

TEST_F(BrokenFiles, ManifestIsAFolder) {
  std::filesystem::create_directory(dir.file("d.manifest"));
  EXPECT_THAT(error_of([&] { read_manifest(dir.file("d.manifest")); }),
              HasSubstr(dir.file("d.manifest") + ": cannot read manifest: it is a directory, not a regular file"));
}

TEST_F(BrokenFiles, MissingBlob) {
  std::filesystem::remove(blob);
  EXPECT_THAT(read_error(),
              HasSubstr(blob + ": cannot open the blob named in " + manifest + ": No such file or directory"));
}

TEST_F(BrokenFiles, TruncatedBlob) {
  std::string bytes = test::read_all(blob);
  bytes.resize(bytes.size() - 1);
  rewrite_blob(bytes, true);
  EXPECT_THAT(read_error(), HasSubstr(blob + ": blob is 3839 bytes, expected the blob-size 3840 from " + manifest));
}

TEST_F(BrokenFiles, BlobWithExtraBytes) {
  rewrite_blob(test::read_all(blob) + std::string(256, '\0'), true);
  EXPECT_THAT(read_error(), HasSubstr(blob + ": blob is 4096 bytes, expected the blob-size 3840"));
}

TEST_F(BrokenFiles, CrcMismatch) {
  std::string bytes = test::read_all(blob);
  bytes[100] ^= 0x01;
  const std::uint32_t expected = read_manifest(manifest).crc32;
  rewrite_blob(bytes, false);
  char want[9];
  char got[9];
  std::snprintf(want, sizeof want, "%08x", expected);
  std::snprintf(got, sizeof got, "%08x", crc32_update(0, bytes.data(), bytes.size()));
  EXPECT_THAT(read_error(), HasSubstr(blob + ": CRC-32 is " + got + ", expected " + want + " from " + manifest +
                                      " (the blob is corrupt or belongs to another manifest)"));
}

TEST_F(BrokenFiles, NonzeroPaddingBetweenTensors) {
  std::string bytes = test::read_all(blob);
  bytes[3500] = 7;
  rewrite_blob(bytes, true);
  EXPECT_THAT(read_error(), HasSubstr(blob + ": padding byte at offset 3500 (after tensor 'a') is 7, expected 0"));
}

TEST_F(BrokenFiles, NonzeroPaddingAtTheEnd) {
  std::string bytes = test::read_all(blob);
  bytes.back() = '\xff';
  rewrite_blob(bytes, true);
  EXPECT_THAT(read_error(), HasSubstr(blob + ": padding byte at offset 3839 (after tensor 'b') is 255, expected 0"));
}

TEST_F(BrokenFiles, ReadBlobIntoWrongDestinationSize) {
  const Manifest m = read_manifest(manifest);
  std::vector<std::uint8_t> small(10);
  EXPECT_THAT(error_of<UsageError>([&] { read_blob_into(m, small.data(), small.size()); }),
              HasSubstr("read_blob_into: the destination holds 10 bytes, but " + manifest + " has blob-size 3840"));
  EXPECT_THAT(error_of<UsageError>([&] { read_blob_into(m, nullptr, 3840); }),
              HasSubstr("read_blob_into: the destination is null"));
}

TEST_F(BrokenFiles, ReadBlobIntoVerifiesToo) {
  std::string bytes = test::read_all(blob);
  bytes[3720] = 1;
  rewrite_blob(bytes, true);
  const Manifest m = read_manifest(manifest);
  std::vector<std::uint8_t> dst(m.blob_size);
  EXPECT_THAT(error_of([&] { read_blob_into(m, dst.data(), dst.size()); }),
              HasSubstr("padding byte at offset 3720 (after tensor 'b') is 1, expected 0"));
}

TEST_F(BrokenFiles, MalformedManifestOnDiskNamesPathAndLine) {
  std::string text = test::read_all(manifest);
  text.replace(text.find("alignment 256"), 13, "alignment 255");
  dir.write("w.manifest", text);
  EXPECT_THAT(read_error(),
              HasSubstr(manifest + ":4: alignment: expected a power of two from 16 to 1048576, found 255"));
}

}  // namespace
}  // namespace kiln
