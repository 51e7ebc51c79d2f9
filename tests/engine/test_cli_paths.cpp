// The checks kiln's tool makes on --model and on the files it is to write, while it parses the command
// line: each message names the path and says what to do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/errors.h"
#include "engine/cli/options.h"
#include "engine/cli/path_checks.h"

namespace kiln::cli {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_cli_paths_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST(ModelPath, OtherFormatsSayWhatKilnReadsAndHowToExport) {
  struct Case {
    std::string path, what;
  };
  for (const Case& c : std::vector<Case>{{"net.onnx", "is an ONNX model"},
                                         {"r18.pt", "is a PyTorch checkpoint"},
                                         {"r18.pth", "is a PyTorch checkpoint"},
                                         {"net.ts", "is a TorchScript file"},
                                         {"net.engine", "is a TensorRT engine"},
                                         {"NET.PLAN", "is a TensorRT engine"},
                                         {"w.safetensors", "is a safetensors file"}}) {
    const std::string m = foreign_model_problem(c.path);
    EXPECT_THAT(m, HasSubstr(c.path + " " + c.what)) << c.path;
    EXPECT_THAT(m,
                HasSubstr("kiln reads a folder written by kiln_export (model.yaml, weights.manifest and weights.bin)"));
    EXPECT_THAT(m, HasSubstr("python3 -m kiln_export --model pkg.module:factory "));
    EXPECT_THAT(m, HasSubstr("--input-shape 1,3,224,224 --out DIR"));
  }
  EXPECT_THAT(foreign_model_problem("r18.pth"), HasSubstr("--checkpoint r18.pth --input-shape"));
  EXPECT_EQ(foreign_model_problem("models/resnet18"), "");
  EXPECT_EQ(foreign_model_problem("models/resnet18/model.yaml"), "");
}

TEST_F(TempDir, AFolderNamedLikeAnotherFormatIsAModelFolder) {
  fs::create_directories(path("exported.onnx"));
  EXPECT_EQ(foreign_model_problem(path("exported.onnx")), "");
}

TEST_F(TempDir, OutputPathsNeedAnExistingWritableFolderAndNoFolderInTheirPlace) {
  EXPECT_EQ(output_path_problem(path("report.json")), "");
  EXPECT_EQ(output_path_problem("report.json"), "");  // the working folder
  EXPECT_EQ(output_path_problem(path("missing/report.json")),
            path("missing/report.json") + ": its folder " + path("missing") + " does not exist");
  fs::create_directories(path("taken"));
  EXPECT_EQ(output_path_problem(path("taken")), path("taken") + " is a folder; give the path of the file to write");
  std::ofstream(path("file")) << "x";
  EXPECT_EQ(output_path_problem(path("file/report.json")),
            path("file/report.json") + ": " + path("file") + " is not a folder");
}

TEST_F(TempDir, ValidatorsNameTheOptionAndThePath) {
  std::string output, json;
  CLI::App tool("t", "kiln");
  configure_tool(tool);
  CLI::App* cmd = add_command(tool, "run", "run", "");
  add_string(*cmd, "--output", "FILE", output, "outputs")->check(tensor_output_path());
  add_string(*cmd, "--json", "FILE", json, "report")->check(writable_output_path());
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"--output", path("o.txt")}, "--output: " + path("o.txt") + ": tensor files are written as NAME.manifest"},
           {{"--output", path("no/o.manifest")},
            "--output: " + path("no/o.manifest") + ": its folder " + path("no") + " does not exist"},
           {{"--json", path("")}, "--json: " + path("") + " is a folder"}}) {
    std::vector<std::string> args = {"kiln", "run"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    try {
      parse(tool, static_cast<int>(argv.size()), argv.data());
      ADD_FAILURE() << "no error for " << c.args[1];
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), HasSubstr(c.message));
    }
  }
}

}  // namespace
}  // namespace kiln::cli
