#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/errors.h"
#include "engine/cli/options.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Argv {
  explicit Argv(std::vector<std::string> a) : args(std::move(a)) {
    for (auto& s : args) ptrs.push_back(s.data());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> args;
  std::vector<char*> ptrs;
};

struct Parsed {
  std::string model, device = "auto";
  std::int64_t batch = 0;
  double atol = 1e-5;
  bool layers = false;
  std::string json;
};

// The kiln tool with one command, `kiln test`, as main() sets it up.
struct TestTool {
  explicit TestTool(Parsed& p) : tool("A tool.", "kiln") {
    cli::configure_tool(tool);
    tool.set_version_flag("--version", std::string("kiln 9.9"));
    cmd = cli::add_command(tool, "test", "a test command", "Details after the options.");
    cli::add_string(*cmd, "--model", "DIR", p.model, "model folder")->required();
    cli::add_choice(*cmd, "--device", {"auto", "cpu", "gpu"}, p.device, "device");
    cli::add_int(*cmd, "--batch", "N", p.batch, "batch");
    cli::add_double(*cmd, "--atol", "X", p.atol, "tolerance");
    cli::add_flag(*cmd, "--layers", p.layers, "every layer");
    cli::add_string(*cmd, "--json", "FILE", p.json, "report");
    tool.footer("exit codes: 0 success");
  }
  CLI::App tool;
  CLI::App* cmd = nullptr;
};

TEST(Options, ParsesBothSpellings) {
  Parsed p;
  TestTool t(p);
  Argv a({"kiln", "test", "--model", "m", "--device=cpu", "--batch", "7", "--atol=0.5", "--layers"});
  EXPECT_EQ(cli::parse(t.tool, a.argc(), a.argv()), t.cmd);
  EXPECT_EQ(p.model, "m");
  EXPECT_EQ(p.device, "cpu");
  EXPECT_EQ(p.batch, 7);
  EXPECT_DOUBLE_EQ(p.atol, 0.5);
  EXPECT_TRUE(p.layers);
  EXPECT_EQ(cli::command_name(t.tool), "kiln test");
}

TEST(Options, NegativeValuesAndTheLastOfARepeatedOption) {
  Parsed p;
  TestTool t(p);
  Argv a({"kiln", "test", "--model", "m", "--batch", "-3", "--atol", "-1e-3", "--model", "n"});
  ASSERT_EQ(cli::parse(t.tool, a.argc(), a.argv()), t.cmd);
  EXPECT_EQ(p.batch, -3);  // the command checks the range and names it
  EXPECT_DOUBLE_EQ(p.atol, -1e-3);
  EXPECT_EQ(p.model, "n");
}

TEST(Options, ErrorsNameTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"kiln", "test"}, "missing --model DIR (see `kiln test --help`)"},
      {{"kiln", "test", "--model", "m", "--bogus"}, "unknown option --bogus (see `kiln test --help`)"},
      // CLI11 reports the --model a misspelling leaves missing first; the misspelling is the news.
      {{"kiln", "test", "--mod", "m"}, "unknown option --mod"},
      {{"kiln", "test", "--model", "m", "--device", "tpu"}, "--device: expected one of auto|cpu|gpu, got 'tpu'"},
      {{"kiln", "test", "--model", "m", "--batch", "7x"}, "--batch: expected an integer, got '7x'"},
      // CLI11 alone would saturate this to INT64_MAX.
      {{"kiln", "test", "--model", "m", "--batch", "99999999999999999999"}, "--batch: expected an integer"},
      // CLI11 alone would read "" as 0.
      {{"kiln", "test", "--model", "m", "--atol", ""}, "--atol: expected a number"},
      {{"kiln", "test", "--model", "m", "--atol", "1e-3x"}, "--atol: expected a number, got '1e-3x'"},
      {{"kiln", "test", "--model"}, "--model needs a value (DIR)"},
      {{"kiln", "test", "--model", "m", "--layers=yes"}, "--layers takes no value"},
      {{"kiln", "test", "--model", "m", "stray"}, "unexpected argument 'stray'"},
      {{"kiln", "tset", "--model", "m"}, "unknown command 'tset' (see `kiln --help`)"},
      {{"kiln", "--bogus"}, "unknown option --bogus (see `kiln --help`)"},
  };
  for (const Case& c : cases) {
    Parsed p;
    TestTool t(p);
    Argv a(c.args);
    try {
      cli::parse(t.tool, a.argc(), a.argv());
      ADD_FAILURE() << "no error for " << ::testing::PrintToString(c.args);
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), HasSubstr(c.message)) << ::testing::PrintToString(c.args);
      EXPECT_THAT(e.what(), Not(HasSubstr("\n")));
    }
  }
}

TEST(Options, HelpAndVersionReturnNoCommand) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"kiln", "--help"}, {"kiln", "test", "--help"}, {"kiln", "test", "-h", "--bogus"}, {"kiln", "--version"}}) {
    Parsed p;
    TestTool t(p);
    Argv a(args);
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(cli::parse(t.tool, a.argc(), a.argv()), nullptr) << ::testing::PrintToString(args);
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_THAT(out, HasSubstr(args.back() == "--version" ? "kiln 9.9" : "usage: kiln"));
  }
}

TEST(Options, HelpListsEveryOptionWithDefaults) {
  Parsed p;
  TestTool t(p);
  const std::string help = t.cmd->help("kiln");
  EXPECT_THAT(help, HasSubstr("usage: kiln test --model DIR [options]"));
  EXPECT_THAT(help, HasSubstr("--model DIR                 model folder (required)"));
  EXPECT_THAT(help, HasSubstr("--device auto|cpu|gpu       device (default: auto)"));
  EXPECT_THAT(help, HasSubstr("--batch N                   batch (default: 0)"));
  EXPECT_THAT(help, HasSubstr("--atol X                    tolerance (default: 1e-05)"));
  EXPECT_THAT(help, HasSubstr("--layers                    every layer\n"));
  EXPECT_THAT(help, HasSubstr("--json FILE                 report (default: none)"));
  EXPECT_THAT(help, HasSubstr("-h,--help                   this text"));
  EXPECT_THAT(help, HasSubstr("Details after the options."));
  EXPECT_THAT(help, Not(HasSubstr("exit codes")));  // the tool's footer stays the tool's
  const std::string top = t.tool.help();
  EXPECT_THAT(top, HasSubstr("usage: kiln <command> [options]"));
  EXPECT_THAT(top, HasSubstr("test                        a test command"));
  EXPECT_THAT(top, HasSubstr("exit codes: 0 success"));
}

}  // namespace
}  // namespace kiln
